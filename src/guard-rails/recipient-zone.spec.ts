import { describe, expect, it } from '@jest/globals';
import { getExampleNumber, parsePhoneNumberWithError, type CountryCode } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';
import { timezones } from 'libphonenumber-geo-carrier';
import { normalizeTimeZone } from './time-zone.js';
import { zoneOfNumber, zoneOfRecipient } from './recipient-zone.js';

const FALLBACK = 'Etc/GMT-14';

describe('zoneOfRecipient', () => {
  it.each([
    ['+12125550123', 'America/New_York', 'US east (212, Manhattan)'],
    ['+16175550123', 'America/New_York', 'US east (617, Boston)'],
    ['+14155550123', 'America/Los_Angeles', 'US west (415, San Francisco)'],
    ['+18085550123', 'Pacific/Honolulu', 'Hawaii (808)'],
    ['+18005550123', 'America/New_York', 'US toll free: +1 as a whole (ambiguous)'],
    ['+61892345678', 'Australia/Perth', 'Australia 08 (WA/SA/NT, ambiguous)'],
    ['+61412345678', 'Australia/Sydney', 'Australian mobile'],
    ['+74951234567', 'Europe/Moscow', 'Moscow'],
    ['+73832123456', 'Asia/Novosibirsk', 'Novosibirsk'],
    ['+74232123456', 'Asia/Vladivostok', 'Vladivostok'],
    ['+5511987654321', 'America/Sao_Paulo', 'São Paulo'],
    ['+5592987654321', 'America/Manaus', 'Manaus'],
    ['+41446681800', 'Europe/Zurich', 'Switzerland (one zone)'],
    ['+41791234567', 'Europe/Zurich', 'Swiss mobile'],
    ['+447911123456', 'Europe/London', 'UK mobile'],
    ['+4915123456789', 'Europe/Berlin', 'German mobile'],
    ['+819012345678', 'Asia/Tokyo', 'Japan'],
  ])('%s → %s (%s)', (phone, zone) => {
    expect(zoneOfRecipient(phone, null, FALLBACK)).toBe(zone);
  });

  it.each([
    ['+999123456789', 'unassigned calling code'],
    ['+80012345678', 'international freephone: no zone'],
    ['0041446681800', 'not E.164'],
    ['41446681800', 'no +'],
    ['+0041446681800', 'leading 0'],
    ['+4144668180012345678', 'too long'],
    ['', 'empty'],
    ['phone', 'not a number'],
  ])('%j → the fallback zone (%s)', (phone) => {
    expect(zoneOfRecipient(phone, null, FALLBACK)).toBe(FALLBACK);
    expect(zoneOfNumber(phone)).toBeNull();
  });

  it('a valid timeZone variable wins over the number, in canonical case', () => {
    expect(zoneOfRecipient('+12125550123', { timeZone: 'Asia/Tokyo' }, FALLBACK)).toBe('Asia/Tokyo');
    expect(zoneOfRecipient('+12125550123', { firstName: 'Ann', timeZone: ' europe/zurich ' }, FALLBACK)).toBe('Europe/Zurich');
    expect(zoneOfRecipient('not a number', { timeZone: 'Asia/Tokyo' }, FALLBACK)).toBe('Asia/Tokyo');
  });

  it.each(['Mars/Olympus', '+09:00', '', 'EST+5'])('an invalid timeZone variable %j is ignored', (timeZone) => {
    expect(zoneOfRecipient('+12125550123', { timeZone }, FALLBACK)).toBe('America/New_York');
    expect(zoneOfRecipient('+999123456789', { timeZone }, FALLBACK)).toBe(FALLBACK);
  });

  it('only the variable named timeZone counts', () => {
    expect(zoneOfRecipient('+12125550123', { timezone: 'Asia/Tokyo', zone: 'Asia/Tokyo' }, FALLBACK)).toBe('America/New_York');
  });
});

describe("zoneOfNumber against libphonenumber-geo-carrier's own timezones()", () => {
  // Example mobile numbers of countries with one and with several zones, plus geographic ones from above.
  const regions: CountryCode[] = ['US', 'CA', 'MX', 'BR', 'AR', 'RU', 'KZ', 'AU', 'NZ', 'ID', 'CD', 'CL', 'EC', 'PT', 'ES', 'GB', 'CH', 'DE', 'FR', 'IN', 'CN', 'JP', 'ZA', 'GL', 'MN', 'KI', 'PF', 'FM'];
  const numbers = [
    ...regions.flatMap((region) => [getExampleNumber(region, examples)?.number].filter((n): n is NonNullable<typeof n> => n !== undefined)),
    ...['+12125550123', '+14155550123', '+18005550123', '+61892345678', '+74232123456', '+5592987654321', '+447911123456'],
  ];

  it('gives one of the zones the package gives, the only one when there is one, and none when it has none', async () => {
    for (const number of numbers) {
      const theirs = (await timezones(parsePhoneNumberWithError(number))) ?? [];
      const ours = zoneOfNumber(number);
      if (theirs.length === 0) expect([number, ours]).toEqual([number, null]);
      else if (theirs.length === 1) expect([number, ours]).toEqual([number, normalizeTimeZone(theirs[0])]);
      else expect([number, theirs.map(normalizeTimeZone)]).toEqual([number, expect.arrayContaining([ours])]);
    }
  });
});
