#!/usr/bin/env node
// The ami-bake CLI from a checkout: tsx compiles the TypeScript on the fly (a dev dependency),
// so there is no build step. The work is in cli/main.ts.
import { register } from 'tsx/esm/api';

// The SDK warns on Node < 22 about its releases after January 2027; package.json pins the SDK and
// allows Node 20, so the warning would only bury the CLI's one-line errors.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
