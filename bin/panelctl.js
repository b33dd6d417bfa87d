#!/usr/bin/env node
// The executable: everything lives in the compiled CLI (npm run build / npm ci produce dist/).
import { main } from '../dist/src/cli/main.js';

main(process.argv);
