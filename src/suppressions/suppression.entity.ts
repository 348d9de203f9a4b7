import { Column, CreateDateColumn, Entity, ForeignKey, PrimaryColumn } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity.js';

/** A number the tenant must never send to (opt-out). */
@Entity('suppressions')
export class Suppression {
  @PrimaryColumn('uuid', { name: 'tenant_id', primaryKeyConstraintName: 'pk_suppressions' })
  @ForeignKey(() => Tenant, { name: 'fk_suppressions_tenant', onDelete: 'CASCADE' })
  tenantId: string;
  @PrimaryColumn('text', { primaryKeyConstraintName: 'pk_suppressions' }) phone: string;
  @Column('text', { nullable: true }) reason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
