import { matrixPart } from './fault-matrix/harness.js';

matrixPart(1, 3);
