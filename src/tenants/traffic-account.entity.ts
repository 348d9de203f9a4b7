import { Check, Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** A Mitto traffic account: the API key and sender that messages go out with. */
@Entity('traffic_accounts')
@Check('ck_traffic_accounts_rate_limit', 'rate_limit_per_second IS NULL OR rate_limit_per_second > 0')
export class TrafficAccount {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_traffic_accounts' }) id: string;
  @Column('text') name: string;
  @Column('uuid', { name: 'mitto_traffic_account_id' }) mittoTrafficAccountId: string;
  /** Secret: sent to Mitto, never returned by the API nor logged. Null = MITTO_API_KEY. */
  @Column('text', { name: 'api_key', nullable: true, select: false }) apiKey: string | null;
  @Column('text', { name: 'default_sender' }) defaultSender: string;
  @Column('integer', { name: 'rate_limit_per_second', nullable: true }) rateLimitPerSecond: number | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
