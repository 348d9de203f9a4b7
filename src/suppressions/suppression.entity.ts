import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A number the tenant must never send to (opt-out). */
@Entity('suppressions')
export class Suppression {
  @PrimaryColumn('uuid', { name: 'tenant_id' }) tenantId: string;
  @PrimaryColumn('text') phone: string;
  @Column('text', { nullable: true }) reason: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
