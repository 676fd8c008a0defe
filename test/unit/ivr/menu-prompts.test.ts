import { describe, expect, it } from 'vitest';
import type { MenuConfig, PromptSpec } from '../../../src/config/types.js';
import { menuPromptDefinitions, menuPromptId } from '../../../src/ivr/menu-prompts.js';

const text = (t: string): PromptSpec => ({ kind: 'text', text: t, voice: 'fr' });

function menu(number: string, fields: Partial<MenuConfig> = {}): MenuConfig {
  return {
    number,
    name: number,
    greeting: text(`greeting ${number}`),
    closedGreeting: null,
    timeCondition: null,
    options: new Map(),
    directDial: true,
    timeoutSeconds: 5,
    interDigitSeconds: 2,
    maxRetries: 3,
    invalidPrompt: null,
    timeoutPrompt: null,
    onFailure: null,
    permissionClass: 'internal',
    ...fields,
  };
}

describe('menu prompt ids', () => {
  it('names each prompt of a menu under menu/<number>/, apart from message numbers', () => {
    expect(menuPromptId({ kind: 'menu-greeting', menu: '3000', closed: false })).toBe('menu/3000/greeting');
    expect(menuPromptId({ kind: 'menu-greeting', menu: '3000', closed: true })).toBe('menu/3000/closed-greeting');
    expect(menuPromptId({ kind: 'menu-invalid', menu: '3000' })).toBe('menu/3000/invalid');
    expect(menuPromptId({ kind: 'menu-timeout', menu: '3000' })).toBe('menu/3000/timeout');
  });

  it('lists the prompts to prepare, optional ones only when configured', () => {
    const definitions = menuPromptDefinitions([
      menu('3000', { closedGreeting: text('closed'), timeCondition: 'office', invalidPrompt: text('invalid'), timeoutPrompt: text('timeout') }),
      menu('3100'),
    ]);
    expect([...definitions]).toEqual([
      ['menu/3000/greeting', text('greeting 3000')],
      ['menu/3000/closed-greeting', text('closed')],
      ['menu/3000/invalid', text('invalid')],
      ['menu/3000/timeout', text('timeout')],
      ['menu/3100/greeting', text('greeting 3100')],
    ]);
  });
});
