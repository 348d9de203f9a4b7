import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { DeliveryReportsResultView } from './dto/status.dto.js';
import { DELIVERY_REPORT, DELIVERY_REPORTS_RESULT } from './dto/status.examples.js';

/**
 * Mitto's delivery-report callbacks; authenticated by the shared secret header, not a tenant key. Never under
 * the API request limit: Mitto delivers reports in bursts and a refused report would only come back later.
 */
@ApiTags('webhooks')
@ApiSecurity('webhook')
@Controller('api/webhooks/mitto')
export class DeliveryReportsController {
  constructor(private readonly reports: DeliveryReportsService) {}

  @Post('delivery-reports')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Receive Mitto delivery reports',
    description:
      'Called by Mitto (register the URL and the `X-Webhook-Secret` header at Mitto, see docs/OPERATIONS.md). Reports are matched ' +
      'by `messageId`, else by `reference`; repeats and out-of-order reports never move a message backwards; an unknown ' +
      '`messageId` is counted in `unknown`, not an error. Not subject to the API request limit.',
  })
  @ApiBody({
    description: 'One Mitto Message object or an array: `{ messageId, deliveryStatus, description?, updatedAt?, reference? }`',
    schema: { oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }] },
    examples: {
      one: { summary: 'One report', value: DELIVERY_REPORT },
      many: { summary: 'A batch of reports', value: [DELIVERY_REPORT, { ...DELIVERY_REPORT, messageId: '9d0b8f6e-2c4a-4e1b-8f7d-6a5c4b3a2910', reference: '01a22b33-7a56-723b-ab2d-8a5c7e2b977e' }] },
    },
  })
  @ApiOkResponse({ type: DeliveryReportsResultView, description: 'What the reports changed', example: DELIVERY_REPORTS_RESULT })
  @ApiErrors('VALIDATION_FAILED', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'SERVICE_UNAVAILABLE')
  receive(@Headers('x-webhook-secret') secret: string | undefined, @Body() body: unknown): Promise<DeliveryReportsResultView> {
    this.reports.authenticate(secret);
    return this.reports.receive(body);
  }
}
