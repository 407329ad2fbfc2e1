#!/usr/bin/env node
import { main } from '../bundle/main.js';

process.exit(await main(process.argv));
