/** HVP acceptance checks on the cpu backend (see hvp-suite.ts). */
import { initBackend } from '../../lib/runtime/backend.ts';
import { hvpSuite } from './hvp-suite.ts';

await initBackend({ backend: 'cpu' });
hvpSuite('cpu');
