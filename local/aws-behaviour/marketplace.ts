import { ec2Error, ec2Params, type Reply } from './ec2-query.js';
import type { Upstream } from './server.js';
import { child, children, parseXml, select, setText, text, type XmlElement } from './xml.js';

/** The account AWS Marketplace images are owned by (their owner alias is `aws-marketplace`). */
export const MARKETPLACE_OWNER_ID = '679593333241';

/**
 * AWS Marketplace as EC2 shows it, which moto does not:
 * - moto keeps product codes on its preloaded images (DescribeImageAttribute answers them) but
 *   DescribeImages leaves `productCodes` empty and calls every preloaded image Amazon's; here an
 *   image with a Marketplace product code is owned by `aws-marketplace` and shows its codes, and
 *   `Owners: [aws-marketplace]` finds it.
 * - Launching a Marketplace image needs a subscription to its product: RunInstances answers
 *   OptInRequired with the product's page otherwise (a fresh account has none; tests subscribe).
 * - An image made from an instance of a Marketplace image, and its copies, carry the product code.
 * - "Images with an AWS Marketplace product code cannot be made public" (EC2 API reference,
 *   ModifyImageAttribute). AWS documents the rule, not its error code: UnsupportedOperation here.
 * Only moto's preloaded images (alias `amazon` upstream) are looked up; the answers are cached, as
 * an image's product codes never change.
 */
export class Marketplace {
  private readonly codes = new Map<string, Promise<string[]>>();
  private readonly subscriptions = new Set<string>();

  constructor(private readonly upstream: Upstream) {}

  subscribe(productCode: string): void {
    this.subscriptions.add(productCode);
  }

  unsubscribeAll(): void {
    this.subscriptions.clear();
  }

  /** The image's Marketplace product codes (inherited ones included). */
  codesOf(region: string, imageId: string): Promise<string[]> {
    const key = `${region}/${imageId}`;
    let found = this.codes.get(key);
    if (!found) {
      found = this.lookUp(region, imageId);
      this.codes.set(key, found);
      found.catch(() => this.codes.delete(key));
    }
    return found;
  }

  /** OptInRequired for an image of a product the account has not subscribed to. */
  async launchError(region: string, params: URLSearchParams): Promise<Reply | undefined> {
    const imageId = params.get('ImageId');
    if (!imageId) return undefined;
    const missing = (await this.codesOf(region, imageId)).find((c) => !this.subscriptions.has(c));
    if (!missing) return undefined;
    return ec2Error(
      401,
      'OptInRequired',
      `In order to use this AWS Marketplace product you need to accept terms and subscribe. To do so please visit https://aws.amazon.com/marketplace/pp?sku=${missing}`,
    );
  }

  /** An instance (and so the images made from it) carries its image's product codes. */
  async launched(region: string, instanceId: string, imageId: string): Promise<void> {
    this.inherit(`${region}/${instanceId}`, await this.codesOf(region, imageId));
  }

  async imaged(region: string, imageId: string, instanceId: string): Promise<void> {
    this.inherit(`${region}/${imageId}`, await this.codesOf(region, instanceId));
  }

  async copied(region: string, imageId: string, sourceRegion: string, sourceImageId: string): Promise<void> {
    this.inherit(`${region}/${imageId}`, await this.codesOf(sourceRegion, sourceImageId));
  }

  /** AWS's refusal to make an image with a Marketplace product code public, or undefined. */
  async publicError(region: string, params: URLSearchParams): Promise<Reply | undefined> {
    const imageId = params.get('ImageId');
    const toAll = [...params].some(
      ([k, v]) =>
        v === 'all' && (/^LaunchPermission\.Add\.\d+\.Group$/.test(k) || /^UserGroup\.\d+$/.test(k)),
    );
    if (!imageId || !toAll || (params.has('OperationType') && params.get('OperationType') !== 'add'))
      return undefined;
    if ((await this.codesOf(region, imageId)).length === 0) return undefined;
    return ec2Error(
      400,
      'UnsupportedOperation',
      'Images with an AWS Marketplace product code cannot be made public.',
    );
  }

  /** DescribeImages asking for `aws-marketplace`: moto knows those images as Amazon's. */
  request(params: URLSearchParams): URLSearchParams {
    const owners = ownersOf(params);
    if (!owners.includes('aws-marketplace') && !owners.includes(MARKETPLACE_OWNER_ID)) return params;
    const out = new URLSearchParams([...params].filter(([k]) => !/^Owner\.\d+$/.test(k)));
    const upstreamOwners = [
      ...new Set(owners.map((o) => (o === 'aws-marketplace' || o === MARKETPLACE_OWNER_ID ? 'amazon' : o))),
    ];
    upstreamOwners.forEach((o, i) => {
      out.set(`Owner.${i + 1}`, o);
    });
    return out;
  }

  /**
   * Shows each image's product codes and its Marketplace owner, then applies the owners the
   * caller asked for to the result (moto applied them to its own view of owners).
   */
  async rewrite(region: string, root: XmlElement, asked: URLSearchParams): Promise<void> {
    const set = child(root, 'imagesSet');
    if (!set) return;
    const items = children(set, 'item');
    const owners = ownersOf(asked);
    const keep = await Promise.all(
      items.map(async (item) => {
        const imageId = text(child(item, 'imageId')) ?? '';
        const codes = await this.codesOf(region, imageId);
        if (codes.length === 0) return !owners.length || !onlyForMarketplace(owners, item);
        setCodes(item, codes);
        if (text(child(item, 'imageOwnerAlias')) === 'amazon') {
          setText(item, 'imageOwnerAlias', 'aws-marketplace');
          setText(item, 'imageOwnerId', MARKETPLACE_OWNER_ID);
        }
        if (!owners.length) return true;
        const alias = text(child(item, 'imageOwnerAlias'));
        const ownerId = text(child(item, 'imageOwnerId'));
        return owners.some((o) => o === alias || o === ownerId || (o === 'self' && !alias));
      }),
    );
    set.children = set.children.filter(
      (c) => typeof c === 'string' || c.name !== 'item' || keep[items.indexOf(c)],
    );
  }

  private inherit(key: string, codes: string[]): void {
    if (codes.length > 0) this.codes.set(key, Promise.resolve(codes));
  }

  /** Preloaded images only (moto's own catalog): what the account creates has no codes of its own. */
  private async lookUp(region: string, id: string): Promise<string[]> {
    if (!id.startsWith('ami-')) return [];
    const reply = await this.upstream.ec2(
      region,
      ec2Params('DescribeImageAttribute', { ImageId: id, Attribute: 'productCodes' }),
    );
    if (reply.status !== 200) return [];
    return select(parseXml(reply.body.toString()).root, 'productCodes/item')
      .filter((item) => text(child(item, 'type')) === 'marketplace')
      .map((item) => text(child(item, 'productCode')) ?? '')
      .filter(Boolean);
  }
}

function ownersOf(params: URLSearchParams): string[] {
  return [...params].filter(([k]) => /^Owner\.\d+$/.test(k)).map(([, v]) => v);
}

/** An Amazon image kept only because `aws-marketplace` was asked for as `amazon` upstream. */
function onlyForMarketplace(owners: string[], item: XmlElement): boolean {
  const marketplaceAsked = owners.includes('aws-marketplace') || owners.includes(MARKETPLACE_OWNER_ID);
  return (
    marketplaceAsked &&
    !owners.includes('amazon') &&
    text(child(item, 'imageOwnerAlias')) === 'amazon' &&
    !owners.includes(text(child(item, 'imageOwnerId')) ?? '')
  );
}

function setCodes(item: XmlElement, codes: string[]): void {
  const element: XmlElement = {
    name: 'productCodes',
    attrs: '',
    children: codes.map((code) => ({
      name: 'item',
      attrs: '',
      children: [
        { name: 'productCode', attrs: '', children: [code] },
        { name: 'type', attrs: '', children: ['marketplace'] },
      ],
    })),
  };
  const at = item.children.findIndex((c) => typeof c !== 'string' && c.name === 'productCodes');
  if (at >= 0) item.children[at] = element;
  else item.children.push(element);
}
