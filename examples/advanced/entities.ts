import { Column, Entity, Index, JoinColumn, ManyToOne, OneToMany, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A bet, as the original's advanced example stored it (table `example_bets`). One JSON payload
 * carries the bet and its `selections`; the window inserts both in one transaction. Column
 * types use names SQLite, MySQL and PostgreSQL all know (`double precision`, not `double`).
 *
 * @example
 * ```ts
 * const store = await openWindowStore({ url: 'sqlite::memory:', entities: [Bet, Selection] });
 * ```
 */
@Entity('example_bets')
export class Bet {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  uuid!: string;

  @Index()
  @Column({ type: 'varchar', length: 36 })
  customer_uuid!: string;

  @Column({ type: 'double precision' })
  stake!: number;

  @Column({ type: 'varchar', length: 3, default: 'USD' })
  currency!: string;

  @Column({ type: 'double precision', default: 1 })
  exchange_rate!: number;

  @Column({ type: 'double precision' })
  odds!: number;

  /** Unix seconds, as in the original (`FROM_UNIXTIME(b.create_time)`). */
  @Index()
  @Column({ type: 'bigint' })
  create_time!: number;

  @OneToMany(() => Selection, (s) => s.bet)
  selections!: Selection[];
}

/** One selection of a bet (table `example_selections`), joined on `bet_uuid`. */
@Entity('example_selections')
export class Selection {
  @PrimaryGeneratedColumn()
  id!: number;

  // Indexed: the join and the expiry (a bet's delete looks up its selections) use it.
  @Index()
  @ManyToOne(() => Bet, (b) => b.selections, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'bet_uuid', referencedColumnName: 'uuid' })
  bet!: Bet;

  @Index()
  @Column({ type: 'int' })
  game_id!: number;

  @Column({ type: 'varchar', length: 64, default: 'moneyline/home' })
  market_id!: string;

  @Column({ type: 'double precision' })
  odds!: number;
}

/** The entities of the advanced example, for `openWindowStore({ entities })` and `host.windows.entities`. */
export const entities = [Bet, Selection];
