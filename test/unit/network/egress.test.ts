import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  type Route,
  type VpcEndpoint,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { subnetEgress } from '../../../lib/network/egress.js';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'us-east-1' });

const SUBNET = 'subnet-0aaaaaaaaaaaaaaaa';
const VPC = 'vpc-0aaaaaaaaaaaaaaaa';
const local: Route = { DestinationCidrBlock: '172.31.0.0/16', GatewayId: 'local', State: 'active' };
const toIgw: Route = {
  DestinationCidrBlock: '0.0.0.0/0',
  GatewayId: 'igw-0123456789abcdef0',
  State: 'active',
};
const ec2Endpoint: VpcEndpoint = {
  VpcEndpointType: 'Interface',
  ServiceName: 'com.amazonaws.us-east-1.ec2',
  PrivateDnsEnabled: true,
  State: 'Available',
};

/** One subnet in one VPC. `associated`: routes of its own table; `main`: the VPC's main table. */
function network({
  associated,
  main = [local],
  endpoints = [],
}: {
  associated?: Route[];
  main?: Route[];
  endpoints?: VpcEndpoint[];
}) {
  ec2Mock
    .on(DescribeSubnetsCommand, { SubnetIds: [SUBNET] })
    .resolves({ Subnets: [{ SubnetId: SUBNET, VpcId: VPC, AvailabilityZone: 'us-east-1a' }] });
  ec2Mock
    .on(DescribeRouteTablesCommand, { Filters: [{ Name: 'association.subnet-id', Values: [SUBNET] }] })
    .resolves({ RouteTables: associated ? [{ RouteTableId: 'rtb-0own', Routes: associated }] : [] });
  ec2Mock
    .on(DescribeRouteTablesCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'association.main', Values: ['true'] },
      ],
    })
    .resolves({ RouteTables: [{ RouteTableId: 'rtb-0main', Routes: main }] });
  ec2Mock.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: endpoints });
}

beforeEach(() => {
  ec2Mock.reset();
});

describe('subnetEgress: a route to the internet', () => {
  it("uses the VPC's main route table for a subnet without its own, as a default VPC's subnets are", async () => {
    // Prepare
    network({ main: [local, toIgw] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toEqual({
      egress: true,
      via: 'internet-gateway',
      subnetId: SUBNET,
      availabilityZone: 'us-east-1a',
      publicIp: true,
    });
  });

  it("prefers the subnet's own route table over the main one", async () => {
    // Prepare
    network({ associated: [local], main: [local, toIgw] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result.egress).toBe(false);
    expect(result.reason).toContain('has no route to 0.0.0.0/0');
  });

  it('gives a public IP with associatePublicIp: true in a subnet routed to an internet gateway', async () => {
    // Prepare
    network({ associated: [local, toIgw] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: true });

    // Assess
    expect(result).toMatchObject({ egress: true, via: 'internet-gateway', publicIp: true });
  });

  it('refuses associatePublicIp: false in a subnet whose only way out is an internet gateway, naming that field and the fix', async () => {
    // Prepare
    network({ associated: [local, toIgw] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: false });

    // Assess
    expect(result).toMatchObject({ egress: false, publicIp: false, field: 'builder.associatePublicIp' });
    expect(result.reason).toBe(
      `subnet ${SUBNET} routes 0.0.0.0/0 to igw-0123456789abcdef0 but associatePublicIp is false: ` +
        'the builder cannot reach the EC2 API (to report its bootstrap result) or package mirrors; ' +
        'set associatePublicIp: true or auto in a subnet with an internet gateway route, or use a subnet with a NAT gateway',
    );
  });

  it('goes out through a NAT gateway without a public IP when auto', async () => {
    // Prepare
    network({
      associated: [local, { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0abc', State: 'active' }],
    });

    // Act
    const auto = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });
    const asked = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: true });

    // Assess
    expect(auto).toEqual({
      egress: true,
      via: 'nat-gateway',
      subnetId: SUBNET,
      availabilityZone: 'us-east-1a',
      publicIp: false,
    });
    expect(asked).toMatchObject({ egress: true, via: 'nat-gateway', publicIp: true });
  });

  it('takes an instance or a network interface as the target of 0.0.0.0/0 for a NAT instance, and says it assumed so', async () => {
    // Prepare
    network({
      associated: [local, { DestinationCidrBlock: '0.0.0.0/0', InstanceId: 'i-0nat', State: 'active' }],
    });
    const byInstance = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });
    ec2Mock.reset();
    network({
      associated: [
        local,
        { DestinationCidrBlock: '0.0.0.0/0', NetworkInterfaceId: 'eni-0nat', State: 'active' },
      ],
    });

    // Act
    const byInterface = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(byInstance).toMatchObject({ egress: true, via: 'nat-instance', publicIp: false });
    expect(byInstance.reason).toContain('i-0nat: assumed to be a NAT instance');
    expect(byInterface).toMatchObject({ egress: true, via: 'nat-instance' });
    expect(byInterface.reason).toContain('eni-0nat');
  });

  it('assumes a transit gateway leads out, and says it cannot check beyond it', async () => {
    // Prepare
    network({
      associated: [
        local,
        { DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: 'tgw-0abc', State: 'active' },
      ],
    });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: true, via: 'transit-gateway', publicIp: false });
    expect(result.reason).toContain('tgw-0abc: assumed');
    expect(result.reason).toContain('cannot check');
  });

  it('ignores a blackhole route (its NAT gateway was deleted)', async () => {
    // Prepare
    network({
      associated: [
        local,
        { DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-0gone', State: 'blackhole' },
      ],
    });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: false, field: 'builder.subnetId' });
  });

  it('does not count a peering connection as a way to the internet', async () => {
    // Prepare
    network({
      associated: [
        local,
        { DestinationCidrBlock: '0.0.0.0/0', VpcPeeringConnectionId: 'pcx-0abc', State: 'active' },
      ],
    });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: false, field: 'builder.subnetId' });
    expect(result.reason).toContain('routes 0.0.0.0/0 to pcx-0abc, which does not lead to the internet');
  });
});

describe('subnetEgress: a private subnet', () => {
  it('fails at builder.subnetId saying what is missing and how to fix it', async () => {
    // Prepare
    network({ associated: [local] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: false, subnetId: SUBNET, field: 'builder.subnetId' });
    expect(result.reason).toContain(`subnet ${SUBNET} has no route to 0.0.0.0/0`);
    expect(result.reason).toContain('no interface endpoint for EC2');
    expect(result.reason).toContain('NAT gateway');
  });

  it('reaches the EC2 API through an interface endpoint with private DNS, warning that package mirrors need more', async () => {
    // Prepare
    network({ associated: [local], endpoints: [ec2Endpoint] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: true, via: 'vpc-endpoints', publicIp: false });
    expect(result.reason).toContain('S3 gateway endpoint');
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeVpcEndpointsCommand, {
      Filters: [
        { Name: 'vpc-id', Values: [VPC] },
        { Name: 'vpc-endpoint-type', Values: ['Interface'] },
      ],
    });
  });

  it('accepts associatePublicIp: false next to an internet gateway route when an EC2 endpoint serves the VPC', async () => {
    // Prepare
    network({ associated: [local, toIgw], endpoints: [ec2Endpoint] });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: false });

    // Assess
    expect(result).toMatchObject({ egress: true, via: 'vpc-endpoints', publicIp: false });
  });

  it('does not count an EC2 endpoint without private DNS, one still pending, or another service', async () => {
    // Prepare
    network({
      associated: [local],
      endpoints: [
        { ...ec2Endpoint, PrivateDnsEnabled: false },
        { ...ec2Endpoint, State: 'Pending' },
        { ...ec2Endpoint, ServiceName: 'com.amazonaws.us-east-1.ssm' },
      ],
    });

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result.egress).toBe(false);
  });
});

describe('subnetEgress: which subnet', () => {
  it('fails at builder.subnetId for a subnet that does not exist', async () => {
    // Prepare
    ec2Mock
      .on(DescribeSubnetsCommand)
      .rejects(Object.assign(new Error('nope'), { name: 'InvalidSubnetID.NotFound', $metadata: {} }));

    // Act
    const result = await subnetEgress(ec2, { subnetId: SUBNET, associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: false, field: 'builder.subnetId' });
    expect(result.reason).toBe(`subnet ${SUBNET} does not exist in this region`);
  });

  it("chooses the default VPC's default subnet in the first zone that offers the instance type", async () => {
    // Prepare
    ec2Mock.on(DescribeSubnetsCommand, { Filters: [{ Name: 'default-for-az', Values: ['true'] }] }).resolves({
      Subnets: [
        { SubnetId: 'subnet-0ccc', VpcId: VPC, AvailabilityZone: 'us-east-1c' },
        { SubnetId: 'subnet-0aaa', VpcId: VPC, AvailabilityZone: 'us-east-1a' },
        { SubnetId: 'subnet-0bbb', VpcId: VPC, AvailabilityZone: 'us-east-1b' },
      ],
    });
    ec2Mock.on(DescribeInstanceTypeOfferingsCommand).resolves({
      InstanceTypeOfferings: [
        { InstanceType: 't3.small', Location: 'us-east-1c' },
        { InstanceType: 't3.small', Location: 'us-east-1b' },
      ],
    });
    ec2Mock.on(DescribeRouteTablesCommand).resolves({ RouteTables: [] });
    ec2Mock
      .on(DescribeRouteTablesCommand, {
        Filters: [{ Name: 'association.subnet-id', Values: ['subnet-0bbb'] }],
      })
      .resolves({ RouteTables: [{ Routes: [local, toIgw] }] });

    // Act
    const result = await subnetEgress(ec2, { associatePublicIp: 'auto', instanceType: 't3.small' });

    // Assess
    expect(result).toEqual({
      egress: true,
      via: 'internet-gateway',
      subnetId: 'subnet-0bbb',
      // The zone decides which types can launch there (builder.requirements narrows to it).
      availabilityZone: 'us-east-1b',
      publicIp: true,
    });
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstanceTypeOfferingsCommand, {
      LocationType: 'availability-zone',
      Filters: [{ Name: 'instance-type', Values: ['t3.small'] }],
    });
  });

  it('fails at builder.subnetId in a region without a default VPC', async () => {
    // Prepare
    ec2Mock.on(DescribeSubnetsCommand).resolves({ Subnets: [] });

    // Act
    const result = await subnetEgress(ec2, { associatePublicIp: 'auto' });

    // Assess
    expect(result).toMatchObject({ egress: false, field: 'builder.subnetId' });
    expect(result.reason).toContain('no default VPC');
    expect(result.reason).toContain('name a subnet with builder.subnetId');
  });
});
