#!/usr/bin/env node
// mm-relay: not built yet; says so rather than pretending.
process.stderr.write('mm-relay: not implemented yet\n');
process.exit(1);
