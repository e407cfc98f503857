import { bundlesSection } from './bundles.js';
import { costSection } from './cost.js';
import { detectionSection } from './detection.js';
import { ec2CallsSection } from './ec2-calls.js';
import { localBakeSection } from './local-bake.js';
import { scaleSection } from './scale.js';
import type { Section } from './section.js';
import { testsSection } from './tests.js';

/**
 * Every section of `npm run bench`, in report order. Add a section with one line here and its own
 * module in bench/.
 */
export const SECTIONS: Section[] = [
  localBakeSection,
  bundlesSection,
  costSection,
  scaleSection,
  ec2CallsSection,
  detectionSection,
  testsSection,
];
