#!/usr/bin/env node
// mm-dlq: not built yet; says so rather than pretending.
process.stderr.write('mm-dlq: not implemented yet\n');
process.exit(1);
