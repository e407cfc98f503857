import { ec2Error, ec2Params, type Reply, syntheticAuthorization } from './ec2-query.js';
import { Marketplace } from './marketplace.js';
import type { Upstream } from './server.js';
import { child, parseXml, select, setText, text, type XmlElement } from './xml.js';

export interface Encryption {
  encrypted: boolean;
  /** Undefined with encrypted: the account's default key, which is the AWS-managed aws/ebs key. */
  kmsKeyId?: string;
}

/**
 * Snapshot encryption as AWS would report it, and AWS's rule that AMIs whose snapshots use the
 * AWS-managed EBS key cannot be shared. moto drops both: CreateImage's snapshots come out
 * unencrypted whatever the instance's volumes were, and CopyImage ignores Encrypted/KmsKeyId.
 */
export class Accounts {
  private instances = new Map<string, Encryption>();
  private images = new Map<string, Encryption>();
  private snapshots = new Map<string, Encryption>();
  /** Product codes, subscriptions and what AWS refuses Marketplace images (marketplace.ts). */
  readonly marketplace: Marketplace;

  constructor(private readonly upstream: Upstream) {
    this.marketplace = new Marketplace(upstream);
  }

  /** The volumes asked for in RunInstances: the first encrypted one decides (the root in practice). */
  launched(region: string, instanceId: string, params: URLSearchParams): void {
    let found: Encryption = { encrypted: false };
    for (let n = 1; params.has(`BlockDeviceMapping.${n}.DeviceName`); n++) {
      if (params.get(`BlockDeviceMapping.${n}.Ebs.Encrypted`) !== 'true') continue;
      found = { encrypted: true, kmsKeyId: params.get(`BlockDeviceMapping.${n}.Ebs.KmsKeyId`) ?? undefined };
      break;
    }
    this.instances.set(`${region}/${instanceId}`, found);
  }

  imaged(region: string, imageId: string, instanceId: string, snapshotIds: string[]): void {
    const e = this.instances.get(`${region}/${instanceId}`);
    if (e) this.record(region, imageId, snapshotIds, e);
  }

  /** CopyImage keeps the source's encryption unless Encrypted asks for a (possibly other) key. */
  copied(region: string, imageId: string, params: URLSearchParams, snapshotIds: string[]): void {
    const source = this.images.get(`${params.get('SourceRegion') ?? region}/${params.get('SourceImageId')}`);
    const e: Encryption | undefined =
      params.get('Encrypted') === 'true'
        ? { encrypted: true, kmsKeyId: params.get('KmsKeyId') ?? source?.kmsKeyId }
        : source;
    if (e) this.record(region, imageId, snapshotIds, e);
  }

  snapshot(region: string, snapshotId: string): Encryption | undefined {
    return this.snapshots.get(`${region}/${snapshotId}`);
  }

  /** Writes the modelled encryption into a snapshot item or an image's `ebs` element. */
  rewrite(region: string, snapshotId: string, into: XmlElement): void {
    const e = this.snapshot(region, snapshotId);
    if (!e) return;
    setText(into, 'encrypted', String(e.encrypted));
    into.children = into.children.filter((c) => typeof c === 'string' || c.name !== 'kmsKeyId');
    if (e.encrypted) setText(into, 'kmsKeyId', e.kmsKeyId ?? 'alias/aws/ebs');
  }

  /** AWS's answer to ModifyImageAttribute adding launch permissions, or undefined to forward it. */
  async shareError(region: string, params: URLSearchParams): Promise<Reply | undefined> {
    const adds = [...params.keys()].filter(
      (k) =>
        /^LaunchPermission\.Add\.\d+\.(UserId|Group|OrganizationArn|OrganizationalUnitArn)$/.test(k) ||
        (params.get('OperationType') === 'add' &&
          /^(UserId|UserGroup|OrganizationArn|OrganizationalUnitArn)\.\d+$/.test(k)),
    );
    const imageId = params.get('ImageId');
    if (adds.length === 0 || !imageId) return undefined;
    const marketplace = await this.marketplace.publicError(region, params);
    if (marketplace) return marketplace;
    const encryptions = await this.imageSnapshots(region, imageId);
    if (!encryptions.some((e) => e.encrypted)) return undefined;
    const isPublic = adds.some((k) => params.get(k) === 'all' && /Group/.test(k));
    // Messages as EC2 answers them (seen in hashicorp/packer#7410, DataDog/stratus-red-team#109
    // and opendevstack/ods-core#1062); documented in the EBS guide, "Share an Amazon EBS snapshot".
    if (isPublic) {
      return ec2Error(
        400,
        'UnsupportedOperation',
        "Encrypted snapshots can't be shared publicly. Specify another snapshot.",
      );
    }
    for (const e of encryptions) {
      if (e.encrypted && (await this.awsManaged(region, e.kmsKeyId))) {
        return ec2Error(
          400,
          'InvalidParameter',
          "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.",
        );
      }
    }
    return undefined;
  }

  /**
   * AWS's answer to ModifySnapshotAttribute adding create-volume permissions, or undefined to
   * forward it: the same rules as sharing the image (ModifySnapshotAttribute: "Encrypted snapshots
   * ... cannot be made public. Snapshots encrypted with your default KMS key cannot be shared").
   */
  async snapshotShareError(region: string, params: URLSearchParams): Promise<Reply | undefined> {
    const adds = [...params.keys()].filter(
      (k) =>
        /^CreateVolumePermission\.Add\.\d+\.(UserId|Group)$/.test(k) ||
        (params.get('OperationType') === 'add' && /^(UserId|UserGroup)\.\d+$/.test(k)),
    );
    const snapshotId = params.get('SnapshotId');
    if (adds.length === 0 || !snapshotId) return undefined;
    const e = this.snapshot(region, snapshotId);
    if (!e?.encrypted) return undefined;
    if (adds.some((k) => params.get(k) === 'all' && /Group/.test(k))) {
      return ec2Error(
        400,
        'UnsupportedOperation',
        "Encrypted snapshots can't be shared publicly. Specify another snapshot.",
      );
    }
    if (await this.awsManaged(region, e.kmsKeyId)) {
      return ec2Error(
        400,
        'InvalidParameter',
        "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.",
      );
    }
    return undefined;
  }

  private record(region: string, imageId: string, snapshotIds: string[], e: Encryption): void {
    this.images.set(`${region}/${imageId}`, e);
    for (const s of snapshotIds) this.snapshots.set(`${region}/${s}`, e);
  }

  private async imageSnapshots(region: string, imageId: string): Promise<Encryption[]> {
    const images = await this.upstream.ec2(region, ec2Params('DescribeImages', { 'ImageId.1': imageId }));
    const ids = select(parseXml(images.body.toString()).root, 'imagesSet/item/blockDeviceMapping/item/ebs')
      .map((ebs) => text(child(ebs, 'snapshotId')))
      .filter((s): s is string => !!s);
    const unknown = ids.filter((s) => !this.snapshot(region, s));
    const fromUpstream = new Map<string, Encryption>();
    if (unknown.length > 0) {
      const params = ec2Params('DescribeSnapshots');
      unknown.forEach((s, i) => {
        params.set(`SnapshotId.${i + 1}`, s);
      });
      const reply = await this.upstream.ec2(region, params);
      for (const item of select(parseXml(reply.body.toString()).root, 'snapshotSet/item')) {
        fromUpstream.set(text(child(item, 'snapshotId')) ?? '', {
          encrypted: text(child(item, 'encrypted')) === 'true',
          kmsKeyId: text(child(item, 'kmsKeyId')) || undefined,
        });
      }
    }
    return ids.map((s) => this.snapshot(region, s) ?? fromUpstream.get(s) ?? { encrypted: false });
  }

  /** The default key, alias/aws/ebs, the key that alias names, or any key KMS says AWS manages. */
  private async awsManaged(region: string, kmsKeyId: string | undefined): Promise<boolean> {
    if (!kmsKeyId || /(^|:)alias\/aws\/ebs$/.test(kmsKeyId)) return true;
    const key = await this.describeKey(region, kmsKeyId);
    if (!key) return false; // a key KMS does not know: not provably AWS-managed
    if (key.KeyManager === 'AWS') return true;
    return (await this.describeKey(region, 'alias/aws/ebs'))?.KeyId === key.KeyId;
  }

  private async describeKey(
    region: string,
    keyId: string,
  ): Promise<{ KeyId?: string; KeyManager?: string } | undefined> {
    const reply = await this.upstream.send(
      'POST',
      '/',
      {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'TrentService.DescribeKey',
        authorization: syntheticAuthorization(region, 'kms'),
      },
      JSON.stringify({ KeyId: keyId }),
    );
    if (reply.status !== 200) return undefined;
    return (JSON.parse(reply.body.toString()) as { KeyMetadata?: { KeyId?: string; KeyManager?: string } })
      .KeyMetadata;
  }
}
