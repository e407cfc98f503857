import { ec2Error, ec2Params, type Reply, xmlReply } from './ec2-query.js';
import type { Upstream } from './server.js';
import { child, parseXml, select, setText, text, type XmlElement } from './xml.js';

/** EC2 keeps deregistration protection this long after it is disabled, when enabled with a cooldown. */
const COOLDOWN_MS = 24 * 3_600_000;
/** EnableImageDeprecation refuses a DeprecateAt more than 10 years ahead (2 for public images). */
const MAX_DEPRECATION_MS = 10 * 365.25 * 86_400_000;

interface Lifecycle {
  deprecationTime?: string;
  /** enabled (with or without a cooldown), or disabled but still protected until `until`. */
  protection?: { cooldown: boolean; until?: number };
}

/**
 * What moto lacks of an image's lifecycle: EnableImageDeprecation (moto answers 500) and
 * deregistration protection (moto does not know it). Kept per region and image; DescribeImages
 * shows both and DeregisterImage is refused while an image is protected, as EC2 does.
 */
export class ImageLifecycle {
  private images = new Map<string, Lifecycle>();

  constructor(
    private readonly upstream: Upstream,
    private readonly now: () => number = Date.now,
  ) {}

  /** The layer's answer for these actions, or undefined for any other. */
  async handle(region: string, action: string, params: URLSearchParams): Promise<Reply | undefined> {
    const imageId = params.get('ImageId') ?? '';
    switch (action) {
      case 'EnableImageDeprecation':
        return (await this.missing(region, imageId)) ?? this.deprecate(region, imageId, params);
      case 'DisableImageDeprecation':
        return (
          (await this.missing(region, imageId)) ??
          this.set(region, imageId, action, (l) => {
            l.deprecationTime = undefined;
          })
        );
      case 'EnableImageDeregistrationProtection':
        return (
          (await this.missing(region, imageId)) ??
          this.set(region, imageId, action, (l) => {
            l.protection = { cooldown: params.get('WithCooldown') === 'true' };
          })
        );
      case 'DisableImageDeregistrationProtection':
        return (
          (await this.missing(region, imageId)) ??
          this.set(region, imageId, action, (l) => {
            // With a cooldown the image stays protected for 24 hours after this call.
            l.protection = l.protection?.cooldown
              ? { cooldown: true, until: this.now() + COOLDOWN_MS }
              : undefined;
          })
        );
      case 'DeregisterImage':
        return this.protectedError(region, imageId);
      default:
        return undefined;
    }
  }

  /** Writes the modelled deprecation time and protection into a DescribeImages item. */
  rewrite(region: string, item: XmlElement): void {
    const l = this.images.get(`${region}/${text(child(item, 'imageId')) ?? ''}`);
    if (!l) return;
    if (l.deprecationTime) setText(item, 'deprecationTime', l.deprecationTime);
    setText(item, 'deregistrationProtection', this.protectionText(l));
  }

  private protectionText(l: Lifecycle): string {
    const p = l.protection;
    if (!p || (p.until !== undefined && p.until <= this.now())) return 'disabled';
    if (p.until !== undefined) return `disabled-until ${new Date(p.until).toISOString()}`;
    return p.cooldown ? 'enabled-with-cooldown' : 'enabled-without-cooldown';
  }

  private protectedError(region: string, imageId: string): Reply | undefined {
    const l = this.images.get(`${region}/${imageId}`);
    if (!l || this.protectionText(l) === 'disabled') return undefined;
    // The code EC2 answers is not in its API reference; OperationNotPermitted is what other
    // emulators answer and what the SDK surfaces as the error's name.
    return ec2Error(
      400,
      'OperationNotPermitted',
      `The image ${imageId} has deregistration protection enabled (${this.protectionText(l)}); disable it first.`,
    );
  }

  private deprecate(region: string, imageId: string, params: URLSearchParams): Reply {
    const at = Date.parse(params.get('DeprecateAt') ?? '');
    if (Number.isNaN(at))
      return ec2Error(400, 'InvalidParameterValue', 'DeprecateAt must be a date and time');
    // "If you specify a value for seconds, Amazon EC2 rounds the seconds to the nearest minute."
    const rounded = Math.round(at / 60_000) * 60_000;
    if (rounded < this.now())
      return ec2Error(400, 'InvalidParameterValue', "DeprecateAt can't be in the past");
    if (rounded > this.now() + MAX_DEPRECATION_MS) {
      return ec2Error(400, 'InvalidParameterValue', 'DeprecateAt can be at most 10 years from now');
    }
    return this.set(region, imageId, 'EnableImageDeprecation', (l) => {
      l.deprecationTime = new Date(rounded).toISOString().replace('.000Z', 'Z');
    });
  }

  private set(region: string, imageId: string, action: string, change: (l: Lifecycle) => void): Reply {
    const key = `${region}/${imageId}`;
    const l = this.images.get(key) ?? {};
    change(l);
    this.images.set(key, l);
    return xmlReply(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ami-bake-layer</requestId><return>true</return></${action}Response>`,
    );
  }

  /** InvalidAMIID.NotFound for an id moto does not know, as EC2 answers. */
  private async missing(region: string, imageId: string): Promise<Reply | undefined> {
    const reply = await this.upstream.ec2(region, ec2Params('DescribeImages', { 'ImageId.1': imageId }));
    const found =
      reply.status === 200 &&
      select(parseXml(reply.body.toString()).root, 'imagesSet/item').some(
        (i) => text(child(i, 'imageId')) === imageId,
      );
    return found
      ? undefined
      : ec2Error(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
  }
}
