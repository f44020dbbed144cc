#!/usr/bin/env node

require('../dist/wsx.cjs');
