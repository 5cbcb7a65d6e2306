#!/usr/bin/env node
import { main, endOnClosedStdout } from '../dist/cli/tsbolt.js';
endOnClosedStdout();
process.exitCode = await main(process.argv.slice(2));
