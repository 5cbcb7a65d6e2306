#!/usr/bin/env node
import { main } from '../dist/cli/tsbolt.js';
import { endOnClosedStdout } from '../dist/cli/format/pipe.js';
endOnClosedStdout();
process.exitCode = await main(process.argv.slice(2));
