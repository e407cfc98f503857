import { ec2Error, ec2Params, listParam, type Reply, xmlReply } from './ec2-query.js';
import type { Upstream } from './server.js';
import { child, escapeXml, parseXml, select, serializeXml, text } from './xml.js';

interface Template {
  id: string;
  name: string;
  defaultVersion: number;
  latestVersion: number;
}

/**
 * DeleteLaunchTemplateVersions, which moto lacks (500): the layer remembers the deleted versions
 * and leaves them out of DescribeLaunchTemplateVersions. As EC2, it refuses to delete the default
 * version (make another the default first) and reports each version in the answer's sets.
 * Not modelled: $Latest still resolves to a deleted latest version in moto.
 */
export class LaunchTemplateVersions {
  private deleted = new Set<string>();

  constructor(private readonly upstream: Upstream) {}

  async handle(
    region: string,
    action: string,
    params: URLSearchParams,
    forward: (params: URLSearchParams) => Promise<Reply>,
  ): Promise<Reply | undefined> {
    if (action === 'DeleteLaunchTemplateVersions') return this.delete(region, params);
    if (action !== 'DescribeLaunchTemplateVersions' || this.deleted.size === 0) return undefined;
    const reply = await forward(params);
    if (reply.status !== 200) return reply;
    const doc = parseXml(reply.body.toString());
    const set = child(doc.root, 'launchTemplateVersionSet');
    if (set) {
      set.children = set.children.filter((c) => {
        if (typeof c === 'string' || c.name !== 'item') return true;
        const key = `${region}/${text(child(c, 'launchTemplateId'))}/${text(child(c, 'versionNumber'))}`;
        return !this.deleted.has(key);
      });
    }
    return xmlReply(200, serializeXml(doc));
  }

  private async delete(region: string, params: URLSearchParams): Promise<Reply> {
    const template = await this.template(region, params);
    if (!template) {
      return ec2Error(
        400,
        'InvalidLaunchTemplateName.NotFoundException',
        'At least one of the launch templates specified in the request does not exist.',
      );
    }
    const ok: string[] = [];
    const failed: string[] = [];
    const item = (version: string, error?: { code: string; message: string }) =>
      `<item><launchTemplateId>${escapeXml(template.id)}</launchTemplateId><launchTemplateName>${escapeXml(template.name)}</launchTemplateName><versionNumber>${escapeXml(version)}</versionNumber>${
        error
          ? `<responseError><code>${error.code}</code><message>${escapeXml(error.message)}</message></responseError>`
          : ''
      }</item>`;
    for (const version of listParam(params, 'LaunchTemplateVersion')) {
      const n = Number(version);
      const key = `${region}/${template.id}/${n}`;
      if (!Number.isInteger(n) || n < 1 || n > template.latestVersion || this.deleted.has(key)) {
        failed.push(
          item(version, {
            code: 'launchTemplateVersionDoesNotExist',
            message: 'The version does not exist.',
          }),
        );
      } else if (n === template.defaultVersion) {
        failed.push(
          item(version, {
            code: 'unexpectedError',
            message: 'You cannot delete the default version of a launch template.',
          }),
        );
      } else {
        this.deleted.add(key);
        ok.push(item(version));
      }
    }
    return xmlReply(
      200,
      `<?xml version="1.0" encoding="UTF-8"?>\n<DeleteLaunchTemplateVersionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>ami-bake-layer</requestId><successfullyDeletedLaunchTemplateVersionSet>${ok.join('')}</successfullyDeletedLaunchTemplateVersionSet><unsuccessfullyDeletedLaunchTemplateVersionSet>${failed.join('')}</unsuccessfullyDeletedLaunchTemplateVersionSet></DeleteLaunchTemplateVersionsResponse>`,
    );
  }

  private async template(region: string, params: URLSearchParams): Promise<Template | undefined> {
    const id = params.get('LaunchTemplateId');
    const query: Record<string, string> = id
      ? { 'LaunchTemplateId.1': id }
      : { 'LaunchTemplateName.1': params.get('LaunchTemplateName') ?? '' };
    const reply = await this.upstream.ec2(region, ec2Params('DescribeLaunchTemplates', query));
    if (reply.status !== 200) return undefined;
    const found = select(parseXml(reply.body.toString()).root, 'launchTemplates/item')[0];
    if (!found) return undefined;
    return {
      id: text(child(found, 'launchTemplateId')) ?? '',
      name: text(child(found, 'launchTemplateName')) ?? '',
      defaultVersion: Number(text(child(found, 'defaultVersionNumber'))),
      latestVersion: Number(text(child(found, 'latestVersionNumber'))),
    };
  }
}
