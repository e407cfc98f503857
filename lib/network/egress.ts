import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  type Route,
  type Subnet,
} from '@aws-sdk/client-ec2';
import type { Ec2Send } from '../aws/ec2.js';

/**
 * Can a builder in this subnet reach the EC2 API and package mirrors? The wrapper reports the
 * bootstrap result by tagging its own instance through the EC2 API (lib/bootstrap/linux.ts), so a
 * builder without egress never reports and the bake only fails when its budget runs out. This
 * answers before anything is launched, from the subnet's route table and the VPC's endpoints.
 */

export type EgressVia =
  | 'internet-gateway'
  | 'nat-gateway'
  | 'nat-instance'
  | 'transit-gateway'
  | 'vpn-gateway'
  | 'core-network'
  | 'vpc-endpoints';

export interface SubnetEgress {
  egress: boolean;
  via?: EgressVia;
  subnetId: string;
  /** The subnet's zone (DescribeSubnets): which instance types can launch there. */
  availabilityZone?: string;
  /** Whether the builder gets a public IP: the recipe's `true`/`false`, or what `auto` decided. */
  publicIp: boolean;
  /** Without egress: what is missing and how to fix it. With egress: what was assumed or may still fail. */
  reason?: string;
  /** The recipe field to fix when there is no egress. */
  field?: 'builder.subnetId' | 'builder.associatePublicIp';
}

export interface EgressOptions {
  /** The recipe's subnet; without one, the default VPC's default subnet the builder would get. */
  subnetId?: string;
  associatePublicIp: boolean | 'auto';
  /** Picks a default subnet in an availability zone that offers this type. */
  instanceType?: string;
}

const ANYWHERE = '0.0.0.0/0';
const FIX =
  'set associatePublicIp: true or auto in a subnet with an internet gateway route, or use a subnet with a NAT gateway';

export async function subnetEgress(ec2: Ec2Send, options: EgressOptions): Promise<SubnetEgress> {
  const subnet = await chooseSubnet(ec2, options);
  if (typeof subnet === 'string') {
    const subnetId = options.subnetId ?? '';
    return { egress: false, subnetId, publicIp: false, field: 'builder.subnetId', reason: subnet };
  }
  const subnetId = subnet.SubnetId ?? '';
  const zone = subnet.AvailabilityZone ? { availabilityZone: subnet.AvailabilityZone } : {};
  const route = (await routeTable(ec2, subnet)).find(
    (r) => r.DestinationCidrBlock === ANYWHERE && r.State !== 'blackhole',
  );
  const asked = options.associatePublicIp;
  const decided = (via: EgressVia, publicIp: boolean, reason?: string): SubnetEgress => ({
    egress: true,
    via,
    subnetId,
    ...zone,
    publicIp,
    ...(reason ? { reason } : {}),
  });

  if (route?.GatewayId?.startsWith('igw-')) {
    // A public IP exposes nothing: the security group admits no inbound traffic.
    if (asked !== false) return decided('internet-gateway', true);
  } else if (route?.NatGatewayId) {
    return decided('nat-gateway', asked === true);
  } else if (route?.InstanceId || route?.NetworkInterfaceId) {
    return decided(
      'nat-instance',
      asked === true,
      `subnet ${subnetId} routes ${ANYWHERE} to ${route.InstanceId ?? route.NetworkInterfaceId}: assumed to be a NAT instance`,
    );
  } else if (route?.TransitGatewayId || route?.CoreNetworkArn || route?.GatewayId?.startsWith('vgw-')) {
    const target = route.TransitGatewayId ?? route.CoreNetworkArn ?? route.GatewayId;
    const via = route.TransitGatewayId
      ? 'transit-gateway'
      : route.CoreNetworkArn
        ? 'core-network'
        : 'vpn-gateway';
    return decided(
      via,
      asked === true,
      `subnet ${subnetId} routes ${ANYWHERE} to ${target}: assumed to lead to the internet or a proxy beyond it, which ami-bake cannot check`,
    );
  }

  // No route out (or an internet gateway without a public IP): private endpoints may still do.
  if (await hasEc2Endpoint(ec2, subnet.VpcId ?? '')) {
    return decided(
      'vpc-endpoints',
      false,
      `subnet ${subnetId} reaches the EC2 API only through the VPC's interface endpoint: package mirrors need an S3 gateway endpoint (Amazon Linux repositories are in S3) or a mirror inside the VPC`,
    );
  }
  const unreachable =
    'the builder cannot reach the EC2 API (to report its bootstrap result) or package mirrors';
  if (route?.GatewayId?.startsWith('igw-')) {
    return {
      egress: false,
      subnetId,
      publicIp: false,
      field: 'builder.associatePublicIp',
      reason: `subnet ${subnetId} routes ${ANYWHERE} to ${route.GatewayId} but associatePublicIp is false: ${unreachable}; ${FIX}`,
    };
  }
  return {
    egress: false,
    subnetId,
    publicIp: asked === true,
    field: 'builder.subnetId',
    reason: `subnet ${subnetId} ${describeMissingRoute(route)} and its VPC has no interface endpoint for EC2: ${unreachable}; use a subnet with a NAT gateway or an internet gateway route, or add an EC2 interface endpoint with private DNS (and an S3 gateway endpoint for package mirrors)`,
  };
}

function describeMissingRoute(route: Route | undefined): string {
  if (!route) return `has no route to ${ANYWHERE}`;
  const target =
    route.VpcPeeringConnectionId ?? route.GatewayId ?? route.LocalGatewayId ?? route.CarrierGatewayId;
  return `routes ${ANYWHERE} to ${target ?? 'a target'}, which does not lead to the internet`;
}

/** The subnet the builder will use, or why there is none. */
async function chooseSubnet(ec2: Ec2Send, options: EgressOptions): Promise<Subnet | string> {
  if (options.subnetId) {
    try {
      const { Subnets = [] } = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [options.subnetId] }));
      if (Subnets[0]) return Subnets[0];
    } catch (error) {
      if ((error as Error).name !== 'InvalidSubnetID.NotFound') throw error;
    }
    return `subnet ${options.subnetId} does not exist in this region`;
  }
  const { Subnets = [] } = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }),
  );
  const byZone = [...Subnets].sort((a, b) =>
    (a.AvailabilityZone ?? '').localeCompare(b.AvailabilityZone ?? ''),
  );
  if (!byZone[0]) {
    return 'the region has no default VPC (or it has no default subnets): name a subnet with builder.subnetId';
  }
  if (!options.instanceType) return byZone[0];
  // Not every zone offers every instance type; EC2 would refuse the launch in such a zone.
  const { InstanceTypeOfferings = [] } = await ec2.send(
    new DescribeInstanceTypeOfferingsCommand({
      LocationType: 'availability-zone',
      Filters: [{ Name: 'instance-type', Values: [options.instanceType] }],
    }),
  );
  const zones = new Set(InstanceTypeOfferings.map((o) => o.Location));
  return byZone.find((s) => zones.has(s.AvailabilityZone)) ?? byZone[0];
}

/** The subnet's own route table, else the VPC's main table (which serves every unassociated subnet). */
async function routeTable(ec2: Ec2Send, subnet: Subnet): Promise<Route[]> {
  const explicit = await ec2.send(
    new DescribeRouteTablesCommand({
      Filters: [{ Name: 'association.subnet-id', Values: [subnet.SubnetId ?? ''] }],
    }),
  );
  if (explicit.RouteTables?.[0]) return explicit.RouteTables[0].Routes ?? [];
  const main = await ec2.send(
    new DescribeRouteTablesCommand({
      Filters: [
        { Name: 'vpc-id', Values: [subnet.VpcId ?? ''] },
        { Name: 'association.main', Values: ['true'] },
      ],
    }),
  );
  return main.RouteTables?.[0]?.Routes ?? [];
}

/** The wrapper calls ec2.<region>.amazonaws.com: an interface endpoint serves it only with private DNS. */
async function hasEc2Endpoint(ec2: Ec2Send, vpcId: string): Promise<boolean> {
  const { VpcEndpoints = [] } = await ec2.send(
    new DescribeVpcEndpointsCommand({
      Filters: [
        { Name: 'vpc-id', Values: [vpcId] },
        { Name: 'vpc-endpoint-type', Values: ['Interface'] },
      ],
    }),
  );
  return VpcEndpoints.some(
    (e) =>
      (e.ServiceName ?? '').endsWith('.ec2') &&
      e.PrivateDnsEnabled === true &&
      (e.State ?? '').toLowerCase() === 'available',
  );
}
