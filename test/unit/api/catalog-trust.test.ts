import { ListExecutionsCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { api, apiEvent } from './fixtures.js';

describe('POST /bakes trusts only the catalog', () => {
  it('answers 400 naming the field when an override is outside what the recipe allows', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    const response = await call(
      apiEvent('POST', '/bakes', {
        body: { recipe: 'worker', overrides: { builder: { instanceType: 'p5.48xlarge' } } },
      }),
    );

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.problems).toEqual([
      {
        path: 'overrides.builder.instanceType',
        message: expect.stringContaining('not allowed by the recipe worker'),
      },
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('answers 400 naming force when the recipe does not allow forced bakes', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'worker', force: true } }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(response.json.problems).toEqual([
      { path: 'force', message: expect.stringContaining('forced bakes') },
    ]);
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('sends the state machine a recipe name and overrides, not a recipe', async () => {
    // Prepare
    const { call, sfn } = api();

    // Act
    await call(
      apiEvent('POST', '/bakes', { body: { recipe: 'worker', overrides: { image: { description: 'x' } } } }),
    );

    // Assess
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input ?? '{}');
    expect(input).toMatchObject({ recipeName: 'worker', overrides: { image: { description: 'x' } } });
    expect(input).not.toHaveProperty('recipe');
  });

  it('answers 429 with Retry-After when the stack already runs its maximum of bakes', async () => {
    // Prepare
    const { call, sfn } = api();
    const running = Array.from({ length: 20 }, (_, i) => ({
      name: `other${i}_aaaaaaaaaaaa_20261126050000abcd`,
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:bake:other${i}`,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:bake',
      status: 'RUNNING' as const,
      startDate: new Date(),
    }));
    sfn.on(ListExecutionsCommand).resolves({ executions: running });

    // Act
    const response = await call(apiEvent('POST', '/bakes', { body: { recipe: 'worker' } }));

    // Assess
    expect(response.statusCode).toBe(429);
    expect(response.json).toMatchObject({
      error: 'TooManyBakes',
      message: expect.stringContaining('at most 20'),
    });
    expect(response.headers?.['retry-after']).toBeDefined();
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
