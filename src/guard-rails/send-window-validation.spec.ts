import { describe, expect, it } from '@jest/globals';
import { validateSendWindow } from './send-window.js';

const problemsOf = (input: unknown) => {
  const result = validateSendWindow(input);
  return result.ok ? [] : result.problems;
};

describe('validateSendWindow', () => {
  it.each([
    [{ start: '09:00', end: '17:00' }, { start: '09:00', end: '17:00' }],
    [{ start: '00:00', end: '23:59' }, { start: '00:00', end: '23:59' }],
    [{ start: '22:00', end: '02:00', days: [5] }, { start: '22:00', end: '02:00', days: [5] }],
    [{ start: '08:00', end: '20:00', days: [7, 1, 3] }, { start: '08:00', end: '20:00', days: [1, 3, 7] }],
    [{ start: '08:00', end: '20:00', timeZone: 'recipient' }, { start: '08:00', end: '20:00', timeZone: 'recipient' }],
    [{ start: '08:00', end: '20:00', timeZone: 'europe/zurich' }, { start: '08:00', end: '20:00', timeZone: 'Europe/Zurich' }],
    [{ start: '08:00', end: '20:00', timeZone: 'UTC' }, { start: '08:00', end: '20:00', timeZone: 'UTC' }],
    [{ start: '08:00', end: '20:00', days: null, timeZone: null }, { start: '08:00', end: '20:00' }],
  ])('accepts and normalises %j', (input, window) => {
    expect(validateSendWindow(input)).toEqual({ ok: true, window });
  });

  it.each([null, 'nine to five', ['09:00', '17:00'], 42])('refuses %j as a whole', (input) => {
    expect(problemsOf(input)).toEqual([{ field: 'sendWindow', message: expect.stringContaining('must be an object') }]);
  });

  it.each(['24:00', '9:00', '09:60', '09:00:00', ' 09:00', '', 900, null, undefined])('refuses the time %j', (time) => {
    expect(problemsOf({ start: time, end: '17:00' })).toEqual([{ field: 'sendWindow.start', message: expect.stringContaining('HH:MM') }]);
    expect(problemsOf({ start: '08:00', end: time })).toEqual([{ field: 'sendWindow.end', message: expect.stringContaining('HH:MM') }]);
  });

  it('refuses an empty window (start = end)', () => {
    expect(problemsOf({ start: '09:00', end: '09:00' })).toEqual([{ field: 'sendWindow.end', message: expect.stringContaining('differ') }]);
  });

  it('refuses days that are not a non-empty list of distinct ISO weekdays', () => {
    expect(problemsOf({ start: '09:00', end: '17:00', days: [] })).toEqual([{ field: 'sendWindow.days', message: expect.any(String) }]);
    expect(problemsOf({ start: '09:00', end: '17:00', days: 'weekdays' })).toEqual([{ field: 'sendWindow.days', message: expect.any(String) }]);
    expect(problemsOf({ start: '09:00', end: '17:00', days: [1, 0, 8, 2.5, '3', 1] })).toEqual([
      { field: 'sendWindow.days[1]', message: expect.stringContaining('1 (Monday) to 7 (Sunday)') },
      { field: 'sendWindow.days[2]', message: expect.stringContaining('1 (Monday) to 7 (Sunday)') },
      { field: 'sendWindow.days[3]', message: expect.stringContaining('1 (Monday) to 7 (Sunday)') },
      { field: 'sendWindow.days[4]', message: expect.stringContaining('1 (Monday) to 7 (Sunday)') },
      { field: 'sendWindow.days[5]', message: 'repeats weekday 1' },
    ]);
  });

  it.each(['Mars/Olympus', '+01:00', 'CET+1', '', 'Recipient', 7])('refuses the time zone %j', (timeZone) => {
    expect(problemsOf({ start: '09:00', end: '17:00', timeZone })).toEqual([
      { field: 'sendWindow.timeZone', message: expect.stringContaining('IANA time zone') },
    ]);
  });

  it('lists every problem at once, unknown properties included, under the given path', () => {
    const result = validateSendWindow({ start: '25:00', end: '25:00', days: [9], timeZone: 'Nowhere', weekends: true }, 'body.sendWindow');
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems.map((p) => p.field)).toEqual([
      'body.sendWindow.weekends',
      'body.sendWindow.start',
      'body.sendWindow.end',
      'body.sendWindow.days[0]',
      'body.sendWindow.timeZone',
    ]);
  });
});
