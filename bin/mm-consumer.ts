#!/usr/bin/env node
// mm-consumer: not built yet; says so rather than pretending.
process.stderr.write('mm-consumer: not implemented yet\n');
process.exit(1);
