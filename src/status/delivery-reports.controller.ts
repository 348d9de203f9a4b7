import { Body, Controller, Headers, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-errors.decorator.js';
import { DeliveryReportsService } from './delivery-reports.service.js';
import { DeliveryReportsResultView } from './dto/status.dto.js';

/** Mitto's delivery-report callbacks; authenticated by the shared secret header, not a tenant key. */
@ApiTags('webhooks')
@ApiSecurity('webhook')
@Controller('api/webhooks/mitto')
export class DeliveryReportsController {
  constructor(private readonly reports: DeliveryReportsService) {}

  @Post('delivery-reports')
  @HttpCode(200)
  @ApiBody({
    description: 'One Mitto Message object or an array: `{ messageId, deliveryStatus, description?, updatedAt?, reference? }`',
    schema: { oneOf: [{ type: 'object' }, { type: 'array', items: { type: 'object' } }] },
  })
  @ApiOkResponse({ type: DeliveryReportsResultView })
  @ApiErrors(400, 401, 413, 503)
  receive(@Headers('x-webhook-secret') secret: string | undefined, @Body() body: unknown): Promise<DeliveryReportsResultView> {
    this.reports.authenticate(secret);
    return this.reports.receive(body);
  }
}
