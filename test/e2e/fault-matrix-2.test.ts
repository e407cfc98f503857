import { matrixPart } from './fault-matrix/harness.js';

matrixPart(2, 3);
