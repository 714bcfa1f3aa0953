/** HVP acceptance checks on the wasm backend (see hvp-suite.ts). */
import { initBackend } from '../../lib/runtime/backend.ts';
import { hvpSuite } from './hvp-suite.ts';

await initBackend({ backend: 'wasm' });
hvpSuite('wasm');
