// The host AdamW update = the tensor update, bit for bit, on wasm (adamw-host-suite.ts).
import { adamwHostSuite, sgdHostSuite } from './adamw-host-suite.ts';

adamwHostSuite('wasm');
sgdHostSuite('wasm');
