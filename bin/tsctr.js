#!/usr/bin/env node
import { main } from '../dist/cli/tsctr.js';
process.exitCode = await main(process.argv.slice(2));
