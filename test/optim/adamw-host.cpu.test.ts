// The host AdamW update = the tensor update, bit for bit, on the cpu backend (adamw-host-suite.ts).
import { adamwHostSuite, sgdHostSuite } from './adamw-host-suite.ts';

adamwHostSuite('cpu');
sgdHostSuite('cpu');
