"""Benchmark: a district-wide relief round (preview and confirm) on PostgreSQL and SQLite.

Set-up (not timed): a generated community (civicgrid.engine.synth + the registry import, ``--base`` households in
communities of 100, each with its distribution point) and the relief demo (catalogue, a lockdown's needs, stock
for 60 % of them). The registry is then copied in bulk, household by household with its open needs, until about
``--requests`` open needs wait district-wide (each copy a new household in the same building; stock copied along,
lot by lot, so it still covers 60 %). Every copied row keeps the models' constraints (one open need per household
and item, quantities within bounds).

Timed: the preview of every community and every item with needs (``selectors.round_preview``: reading the
database into the engine's frames, the engine with its equity figures for every policy, the rest), then the
confirmation of the ``equity`` policy (``services.round_confirm``: reading and locking, the engine, writing
allocations, tasks, stops, needs and stock, the audit rows), with the SQL statements each sends (COPY counted
apart) and the CPU time of this process beside the wall time. On SQLite the time the write lock is held (from
BEGIN IMMEDIATE to the commit) is reported, and a second process tries a short write every 0.2 s during the
confirmation (as a sweep visit would), with the database's 20 s busy timeout: how many failed with "database is
locked" and the longest wait.

Goal (issue 15): 1,000,000 requests previewed in <= 10 s and confirmed in <= 30 s on PostgreSQL.

Beside wall time, the CPU time of this process and of the PostgreSQL server process serving it (read from /proc)
are reported, in total and per slow statement: on a shared machine wall time says little, CPU time says where the
work went.

Figures of an earlier session on the shared 2-core machine (load average 5-9 throughout: this process got a
fraction of a core, so wall time is several times its CPU time; PostgreSQL 15 with fsync off, as
scripts/with-postgres.sh starts it):

    100,000 requests (60,000 households, 40 communities, 4 items)   before (main aba08a4)   after
    PostgreSQL preview    wall / CPU of this process                  9.4 s / 2.5 s          1.8 s / 0.5 s
                          reading into frames, engine, rest           6.2, 2.0, 1.2 s        1.0, 0.7, 0.1 s
    PostgreSQL confirm    wall / CPU                                  67.9 s / 15.4 s        19.5 s / 2.0 s
                          statements                                  9,835                  15 + 4 COPY
                          transaction (row locks held)                62.6 s                 16.2 s (commit 6.0 s)
    SQLite preview        wall / CPU                                  6.3 s / 2.3 s          2.7 s / 1.2 s
    SQLite confirm        wall / CPU                                  76.2 s / 16.7 s        11.4 s / 4.6 s
                          statements                                  12,564                 26
                          write lock held                             75.6 s                 7.1 s
                          another process's writes "locked"           3 of 8 (waits 21 s)    0 of 24 (longest 6.9 s)

    1,000,000 requests on PostgreSQL (568,000 households): preview 21.3 s wall, 5.7 s CPU (reading 11.1 s,
    engine 9.2 s, the rest 1.0 s; 4 statements); confirm 192.8 s wall, 22.6 s CPU (reading and locking 21.6 s,
    engine 9.4 s, planning 13.9 s, writes 147.9 s: UPDATE of the needs 36.5 s, COPY of the allocations 19.8 s,
    the round's snapshot 18.6 s, COPY of the stops 6.1 s, and 54.5 s at COMMIT: the deferred foreign-key
    checks of 1.6 M new rows); 15 statements + 4 COPY.

A later session (main 21199cf), PostgreSQL only, the same machine at load average 5-8 (other engineers' work),
so the CPU columns are the comparison, not the wall. "Triggers" is an experiment measured and not kept: the
allocation and stop rows' references checked by set-based statement triggers in place of Django's deferred
per-row foreign keys. It moved the COMMIT's checks into the COPYs (-11 % of CPU at 1M, -30 % at 300,000) but put
eight references' integrity in hand-written triggers that every later migration, restore and TRUNCATE would have
to know about; for a confirm still three times over its goal, the foreign keys stay.

    300,000 requests (172,000 households), two runs each,   before (21199cf)            triggers (not kept)
    alternating
    preview    wall / CPU here + PostgreSQL's               3.2-4.5 s / 1.6 + 0.4 s     3.9-5.3 s / 1.4 + 0.4 s
    confirm    wall                                         32.4-46.7 s                 32.1-41.9 s
               CPU here + PostgreSQL's                      6.1 + 14.9 / 6.2 + 16.9 s   5.1 + 10.6 / 5.4 + 10.2 s
               COMMIT (the deferred key checks)             10.0-14.3 s, 6.4-6.6 s CPU  0.16-0.17 s, 0.1 s CPU
               COPY of the allocations, server CPU          2.0-2.5 s                   3.1 s (with the checks)
               COPY of the stops, server CPU                0.7 s                       1.2 s (with the checks)
               UPDATE of the needs, server CPU              3.6-3.7 s                   3.5-3.7 s
    (quiet machine, load 0.4-1.7, before: preview 2.9 s wall; confirm 20.8 s wall, 5.1 s CPU here, COMMIT 6.7 s)

    1,000,000 requests (568,000 households)                 before (21199cf)            triggers (not kept)
    preview    wall / CPU here + PostgreSQL's               12.6 s / 5.6 + 1.5 s        22.2 s / 4.9 + 1.4 s
    confirm    wall / CPU here + PostgreSQL's               100.9 s / 22.8 + 49.0 s     143.6 s / 21.7 + 41.9 s
               COMMIT                                       23.8 s (20.5 s CPU)         0.54 s (0.26 s CPU)
               COPY of the allocations, server CPU          6.4 s                       14.1 s (with the checks)
               COPY of the stops, server CPU                2.1 s                       5.1 s (with the checks)
               UPDATE of the needs, server CPU              12.9 s                      14.0 s
               the round's row (snapshot JSON), server CPU  2.5 s                       2.8 s
    The "triggers" run had tests running beside it (its wall times are the worse for it). At 1M the set-based
    checks grew faster than linearly (1.7 s for 300,000 allocation rows, 7.7 s for 1,000,000). The engine's share:
    5 policies and their equity figures on 1,000,000 requests take 3.0-3.4 s of CPU (a synthetic frame, profiled
    apart; the "engine" wall figures above are inflated by the load).

The merged code (main 3d657ac: without the triggers), PostgreSQL, run back to back on a quiet machine (load 0.1-1.0):

    300,000 requests    preview 1.7 s wall, 1.3 + 0.4 s CPU (reading 1.0 s, engine 0.6 s)
                        confirm 18.0 s wall, 5.4 + 13.7 s CPU; transaction 15.1 s (COMMIT's key checks 6.0 s)
    1,000,000 requests  preview 6.0 s wall, 4.8 + 1.3 s CPU (reading 3.5 s, engine 2.3 s): goal (10 s) met
                        confirm 62.5 s wall, 18.9 + 47.4 s CPU (reading and locking 7.4 s, engine 2.2 s, planning
                        4.3 s, writes 48.5 s: the needs' UPDATE 12.7 s, the round's row 5.2 s, COPY of the
                        allocations 4.7 s, of the stops 1.9 s, and 20.5 s at COMMIT: the deferred key checks):
                        goal (30 s) missed

Kept from that work: the allocation table lost three indexes nobody reads by (round, item, point: relief
migration 0004); the stops' keys come from their sequence (no read-back); the five policies share one encoding of
the requests (engine.allocation.allocate_each); the fingerprint and snapshot handle text columns without a call
per value. Both goals are still missed on this machine: what is left is mostly PostgreSQL's own work on a million
rows (the needs' UPDATE, the foreign-key checks at COMMIT, the reads under lock) and, at 1M, the server's 128 MB of
shared buffers (scripts/with-postgres.sh's default) against tables several times that size.

Later (main 00b997a): the round's snapshot and result stored compressed (civicgrid.core.packed; jsonb refused a
value over 256 MB, so a round of about 1.7 M requests could not be confirmed at all). 1,000,000 requests at load
5-6 (other work running): the round's row 1.1 s wall, 0.3 s of server CPU (was 5.2 s, 2.5 s on a quiet machine);
the confirm as a whole 121 s wall, 17.5 + 48.7 s CPU (the needs' UPDATE 14.0 s and the COMMIT's key checks 22.0 s
of server CPU: the load, not the change, makes the wall). Two experiments at 300,000 requests, not kept: a server
with 2 GB of shared buffers and 8 GB of WAL between checkpoints used the same server CPU (13.8 s against 14.0 s);
dropping the allocations' foreign keys to the household and item (copies of the need's) took the COMMIT's checks
from 6.1 to 4.7 s of server CPU, and with the round's and point's too, to 2.9 s: even with no foreign keys at all,
PostgreSQL's own work per row (the needs' UPDATE, the COPYs, reading under lock) stays over the 30 s goal at 1M.

A later session (branch rounds2, from main ab1f70d). Main's code had the needs' two new indexes (relief 0006,
0007), which made the needs' UPDATE dearer than the figures above. "Before" is main's code measured again on the
same machine the same evening. Server CPU was measured per statement, and profiled with perf and EXPLAIN (ANALYZE,
BUFFERS, WAL). The experiments ran on copies of one kept database (CREATE DATABASE ... TEMPLATE), so every run had
the same data.

    300,000 requests                 before (ab1f70d), load 0.4-1.4     after, load 1.7-2.1
    confirm wall                     20.8 s                             15.3 s
    CPU here + PostgreSQL's          4.7 + 14.9 s                       4.5 + 9.6 s
    UPDATE of the needs, server CPU  4.8 s                              1.6 s
    COMMIT (key checks), server CPU  6.2 s                              4.6 s
    COPY allocations / stops         1.5 / 0.7 s                        1.5 / 0.6 s
    preview wall / CPU               1.6 s / 1.3 + 0.4 s                2.3 s / 1.2 + 0.4 s

    1,000,000 requests               before (ab1f70d), load 1.2-2.4     after, load 1.0-1.1
    confirm wall                     67.7 s                             48.5 s; 49.9 s again (load 1.0); 65.2 s at load 2-4
    CPU here + PostgreSQL's          18.0 + 53.4 s                      17.7 + 33.7 s
    UPDATE of the needs, server CPU  18.8 s                             5.9 s
    COMMIT (key checks), server CPU  20.8 s                             15.9 s
    COPY allocations / stops         5.3 / 2.1 s                        4.7 / 2.2 s
    the stops' keys (nextval)        1.3 s                              0.1 s
    reading and locking (both reads) 8.5 s                              8.2 s
    transaction (row locks held)     57.3 s                             38.2 s
    preview wall / CPU               5.9 s / 4.8 + 1.3 s                6.0 s / 4.7 + 1.3 s

What changed, each measured at 300,000 requests (server CPU) unless said otherwise:
- Each foreign key checked at the commit costs about 3 us per row, whichever table it points to. Measured by
  dropping one key at a time: allocation -> household 0.9 s, need 0.9 s, item 0.8 s, stop 1.0 s, point 1.2 s,
  round 1.0 s; stop -> household 0.8 s, task 0.5 s. The allocation row copies its need's household and item. On
  PostgreSQL those three keys are now one composite key, (need, household, item) -> the need's unique
  (id, household, item) (relief 0008). It is still declared and checked at the commit, and it also refuses a copy
  that differs from the need's own. The COMMIT went from 6.3 to 4.6 s. The need's new unique index replaces its
  plain household index, so the need table has no extra index.
- Checking the keys at the end of each COPY (NOT DEFERRABLE) cost the same as at the commit: 6.3 s against
  6.1 s. They stay deferred.
- The needs' UPDATE is mostly index maintenance. A status change is never a HOT update. On a copy of the table
  (245,000 updated needs), the UPDATE took 4.5 s with all seven secondary indexes and 1.15 s with none. Three
  changes:
  - The plain item index and the plain household index are gone. The life-critical (status, urgency) index
    holds only life-critical needs (relief 0008).
  - perf showed 15 % of the UPDATE in heap_index_delete_tuples. PostgreSQL marks an index "unchanged" when the
    statement does not name its columns, and B-tree then tries a bottom-up deletion pass on every full leaf page.
    In a round the pass never frees anything. The UPDATE now names every indexed column, set to itself: 3.8 -> 3.2
    s of server CPU.
  - The need table keeps half of each page free (fillfactor 50, relief 0009). About two thirds of a round's needs
    stay open with more units allocated, and those updates become HOT, with no index entries at all: 3.7 -> 1.7 s
    of server CPU. The table takes twice the disk space.
- The stops' keys: ``nextval(pg_get_serial_sequence(...))`` looked the sequence up for each of 568,000 keys. It is
  now named once: 1.17 -> 0.13 s (civicgrid.core.bulk.IdBlock).
- Reading a COPY's rows: psycopg's ``Copy.read`` cost about 3 us per row in its wait loop. Rows already received are
  now taken straight from libpq. A million-row read went from 4.0 to 3.4 s of client CPU, and from 3.6 to 2.9 s
  when locking.

Tried and not kept:
- 2 GB of shared buffers at 1M: the UPDATE went from 15.1 to 14.1 s and the COMMIT from 16.3 to 15.6 s, so it
  barely helps. As the earlier session also found at 300,000, the server's settings are not what stands between
  the confirm and its goal.
- Reading once, under the locks, inside the transaction, would save about 4 s at 1M. It would also hold the
  needs' row locks through the engine. A test pins the current design: the engine runs before the transaction.
- Planning the rows (4 s of this process's CPU at 1M) in a second thread while PostgreSQL runs the locked read.
  At 1M: 46.2 and 52.3 s (load 1 and 3) against 48.5 and 49.9 s without the thread. The gain is within the noise,
  and the row locks were held 1.6 s longer even in the quiet run.

Noted: in this bench 142 copies of each need share one filed_at, and ids run copy after copy. So the filed_at and
(tier, filed_at, id) indexes take each new entry at a random place. With filed_at rising with the id, as real
filing makes it, the needs' UPDATE was 20 % cheaper. The bench's data was left as it is.

Intake (bench/bench_intake.py, PostgreSQL, 3 x 10 s) after these changes: 263 filings/s, p99 238 ms, 6.5 ms of
server CPU per filing (load 0.8-4.2). Main's code ran right after it at load 4.2-6.6: 208 filings/s, p99 310 ms,
8.1 ms. The load differed, so this is not an A/B; it shows only that intake did not get slower. Each new need now
writes two fewer index entries, and its table uses twice the pages.

Why the goal is still missed: at 1M, PostgreSQL's own work is 33.7 s. The largest part is 15.9 s at the COMMIT:
5.1 M key checks, four per allocation row (round, point, stop, need) and two per stop (task, household), at about
3 us each. PostgreSQL 15 checks a declared foreign key row by row. The only ways to go lower would take integrity
out of the schema: set-based triggers, dropped keys, or validating a partition as it is attached. All three were
ruled out.

A later session (main 811beb2): the needs are read once. The confirm no longer reads and locks every need again
inside the transaction: it locks and compares the lots only, and the needs' UPDATE takes units only for needs
still open with at least the units they asked for (``round_writes.NeedsChanged`` otherwise: the try is rolled
back and the old locked read and plan follow). Back to back, main 5498ae9 then this code, quiet machine:

    1,000,000 requests               before (5498ae9), load 1.0-1.2     after, load 1.2-2.0 (a helper started)
    confirm wall                     46.5 s                             44.2 s
    CPU here + PostgreSQL's          16.8 + 32.8 s                      13.1 + 29.3 s
    reading (and locking)            8.5 s (two reads)                  3.7 s (one read)
    UPDATE of the needs, server CPU  5.7 s                              5.9 s (it now locks the rows it writes)
    COMMIT (key checks), server CPU  15.2 s                             15.5 s
    transaction (row locks held)     36.9 s, on every need              34.5 s, on the served needs only
    preview wall                     6.1 s                              6.7 s

Then two more changes: the served needs are locked in id order before the UPDATE (as a filing locks its needs,
so the two cannot deadlock: 1.4 s of server CPU), and the confirm and preview run with Python's cyclic collector
paused (core.bulk.collector_paused; full collections walked the round's millions of objects), the engine's
sentences kept as Python strings. The final code against main 5498ae9 again, back to back, quiet (load 1.2-1.6):

    1,000,000 requests               before (5498ae9)                   after (final)
    confirm wall                     45.7 s                             40.8 s
    CPU here + PostgreSQL's          16.4 + 32.3 s                      11.8 + 31.8 s
    reading (and locking)            7.7 s (two reads)                  3.7 s (one read)
    planning the rows                3.9 s                              2.1 s
    the served needs locked in order -                                  1.4 s server CPU
    UPDATE of the needs, server CPU  5.8 s                              5.8 s
    COMMIT (key checks), server CPU  15.3 s                             15.7 s
    transaction (row locks held)     36.5 s, every need locked          32.5 s, the served needs only
    preview wall                     6.1 s                              6.0 s

The 30 s goal is still missed: PostgreSQL's own CPU (about 30 s, in one backend, half of it the key checks at
the commit) is the floor of this design on this machine, whatever this process does.

``--job`` confirms as the page and the API confirm a round of ``background_requests`` requests or more: a district
official's request (services.round_confirm_or_queue: it counts the selection's waiting needs, then queues a
confirmation), then its job run in this process; the progress read back after each stage (0, 33, 66 %), then
done at 100 % with its round.

A later session (from main 143045f): the allocation row lost its point (nothing
read it; its key cost a check per row at the commit, relief migration 0011), and the write checks that no served
household moved since the read (its stop would go to the old building: one count over the plan's own lists, sent
as arrays). Quiet machine (load 1.0-1.3), one run each:

    1,000,000 requests               last session (final)               this session
    confirm wall                     40.8 s                             37.9 s
    CPU here + PostgreSQL's          11.8 + 31.8 s                      12.1 + 28.4 s
    COMMIT (key checks), server CPU  15.7 s                             12.3 s
    the moved-household check        -                                  1.0 s (0.5 s server CPU)
    transaction (row locks held)     32.5 s                             29.3 s
    with --job: the request          (not measured)                     0.57 s (one count of 1,000,000 needs)
    with --job: the whole            40.4 s                             38.9 s (12.6 + 28.3 s CPU)

SQLite, 100,000 requests, same session, quiet (load 0.6-0.7): preview 0.9 s, confirm 2.7 s wall (2.7 s CPU), the
write lock held 1.6 s; another process writing every 0.2 s meanwhile: 0 of 10 "database is locked", longest wait
1.3 s. (The 11.4 s above was measured at load 5-9.)

The first try of the moved-household check joined the stops and tasks just written: planned from the tables'
statistics before the round (an empty stops table), it was a nested loop of 21 s. Its second form asked EXISTS
over the arrays, and the planner, betting on finding a moved household early, made stops x tasks a nested loop
(270 M comparisons, 19.8 s, when none had moved); counting makes it two hash joins.

A later session (from main e2c7321). An allocation no longer names its stop: its stop is its household's in the
same round, found by (round, household) (relief migration 0012; the key cost a check per served need at the
commit and an index entry per allocation). The allocations are written in the needs' order, so the (round, need)
and need indexes take each entry after the last. The allocations and stops go by binary COPY
(core.bulk.copy_rows(binary=True)). The served needs are locked from the plan's ids, one array in PostgreSQL's
text form (core.bulk.int_array): the join on the allocations just written read them back and sorted them on disk.
Each change was first measured alone on copies of one kept database at 1,000,000 requests (load about 2, helpers
running): binary COPY, allocations' COPY 5.7 -> 5.1 s of server CPU; the need order, 5.1 -> 3.9 s; without the
stop's key and index, COPY 3.9 -> 2.9 s and the COMMIT 12.4 -> 9.7 s. Then main e2c7321 and this code, back to back,
one run each, the same machine (load 1.2-2.8, a helper's tests running):

    1,000,000 requests               before (e2c7321)                   after
    confirm wall                     47.3 s                             36.4 s
    CPU here + PostgreSQL's          13.4 + 30.4 s                      10.1 + 25.2 s
    COPY of the allocations          8.7 s wall, 5.6 s server CPU       4.7 s wall, 4.0 s server CPU
    UPDATE of the needs, server CPU  5.8 s                              5.5 s
    the served needs locked          1.9 s wall, 1.4 s server CPU       1.3 s wall, 1.3 s server CPU
    COMMIT (key checks), server CPU  13.0 s                             9.5 s
    transaction (row locks held)     37.4 s                             28.0 s
    preview wall                     7.1 s                              6.5 s
    SQLite, 100,000 requests         confirm 2.7 s, write lock 1.6 s    confirm 2.7 s, write lock 1.5 s

Then, after the review's fixes (binary COPY checks each smallint and integer value's range; the allocations
indexed by (household, round) instead of household, relief 0013), the pair again on a quiet machine (load 1.1-2.2,
nothing else running), back to back:

    1,000,000 requests               before (e2c7321)                   after (main 20be8e8)
    confirm wall                     38.3 s                             32.6 s (-15 %)
    CPU here + PostgreSQL's          11.7 + 29.0 s                      10.5 + 23.7 s
    COPY of the allocations          5.4 s wall, 5.3 s server CPU       3.7 s wall, 3.5 s server CPU
    COMMIT (key checks), server CPU  12.4 s                             9.3 s
    transaction (row locks held)     30.8 s                             25.3 s
    preview wall                     6.0 s                              6.0 s

The 30 s goal is still missed at 1M, by 2.6 s on a quiet machine. What is left in PostgreSQL is 3.1 M key checks at the commit (round and need per
allocation, task and household per stop), the needs' UPDATE and the two COPYs.

A later session (from main a48da00). Only the chosen policy runs before the transaction. The delivery plan (one-time
codes encrypted, stock by lot), the other four policies' figures and the round's packed snapshot and result are
made in a second thread while PostgreSQL locks and updates the served needs (core.alongside: Python lets the
thread run while psycopg waits for the server). The allocations are copied first, under the round's id taken
ahead (their key to the round is checked at the commit, after the round's row is written). On SQLite that work
is made before the transaction instead: there the transaction holds the database's one write lock. Back to back,
base (a48da00) and this code, in the order base, new, new, base, nothing else running (load 0.8-1.2). The base
ran 15-25 % slower today than last session's 32.6 s; the pair is the comparison:

    1,000,000 requests               base (a48da00)                     this code
    confirm wall                     41.2 s, 37.7 s                     33.0 s, 32.3 s (-16 % against the mean)
    CPU here + PostgreSQL's          14.2 + 28.9 s, 12.4 + 26.7 s       15.5 + 27.6 s, 12.6 + 27.6 s
    before the transaction           read 4.1 / 3.6 s, engine (5         read 4.1 / 4.5 s, engine (the chosen
                                     policies) 2.4 / 2.2 s, the plan     policy) 0.8 / 0.7 s
                                     3.7 / 3.0 s
    the needs locked and updated     -                                  8.7 / 8.1 s; meanwhile the second
                                                                        thread's work took 7.3 s (a later run),
                                                                        and the writer waited 0.0 s for it
    transaction (row locks held)     30.7 s, 28.5 s                     28.0 s, 27.0 s
    COMMIT (key checks), server CPU  10.1 s, 10.0 s                     10.1 s, 9.9 s

    SQLite, 100,000 requests: with the plan inside the transaction (the first version) the write lock was held
    1.9 s; made before it, 1.4 s (base: 1.5-1.6 s); confirm 2.6-2.9 s wall (base 2.7 s).

Once more after the round's page change (main bfeeb35), alone (load 1.3-1.7): confirm 32.5 s; the second thread's
work 8.9 s beside the needs' 8.2 s, waited for 0.7 s. The round's page (it reads the snapshot's summary, relief
0014): 12 ms, where decoding the whole snapshot, as the page did before, takes 2,400 ms at 1,000,000 requests
(93 ms against 9 ms on SQLite at 100,000).

The 30 s goal is still missed on this machine today, by 2.3-3.0 s. A profile of the confirm: of its 33 s, this
process waited for the server 24.4 s (the needs 8.1 s, the COMMIT's key checks 10.2 s, the COPYs, the moved-
household check 1.1 s); the rest is the read's parsing (about 2.5 s) and the chosen policy (0.8 s). What is left is
one PostgreSQL backend's serial work.

A later session (from main e7f2f27). A stop now names its round, and (household, round) is unique (relief 0015);
on PostgreSQL the stop's key to its task is one composite key, (round, task) -> the task's unique (round, id). A
first version pointed it at a unique (id, round) while the task kept its index of the round alone: at the commit
the key check looked each of 567,700 stops' task up through that index (the planner takes the tasks written in
the same transaction for an empty table) and read every task of the round, a commit of 16.9 and 17.5 s against
9.8 s (confirm 37.6 and 38.5 s). Found by this benchmark, reproduced in SQL (12.8 s against 1.5-2.1 s), fixed by
making (round, id) the task's only index holding the round; a test now holds every such index to that shape.
read_frame parses a COPY's rows while a second thread takes them from libpq: the round's read of its million
needs took 3.2-3.5 s against 3.8-4.5 s in alternating runs of the read alone. Runs of the whole benchmark, the
machine otherwise idle, in the order taken (a run with a review running beside it left out):

    1,000,000 requests               base (e7f2f27)                     this code
    confirm wall                     29.0, 32.5, 31.4 s                 30.6, 31.3 s (the stop's key);
                                                                        30.6 s (and the read)
    stops COPY, server CPU           2.0-2.3 s                          1.8-1.9 s (one index fewer)
    COMMIT (key checks), server CPU  9.7-10.8 s                         10.3-10.6 s
    reading (confirm / preview)      3.6-4.6 / 4.0-4.4 s                3.1 / 3.6 s (with the read's change)

The machine varies by 2-3 s between runs of the same code, more than either change: the 30 s goal is at reach,
not met with margin.

    .venv/bin/python bench/bench_round.py [--requests 100000] [--skip-sqlite] [--skip-postgres]
                                          [--sqlite-requests N] [--base 4000] [--profile FILE] [--job]
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


# --- setting up ------------------------------------------------------------------------------------
def concat(a: str, b: str) -> str:
    return f"({a} || {b})"


def setup(*, requests: int, base: int, seed: int) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from civicgrid.cli import community_rows
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.engine.synth import generate_community
    from civicgrid.registry.models import Household
    from civicgrid.registry.services import registry_import
    from civicgrid.relief.demo import demo_load
    from civicgrid.relief.models import LedgerEntry, Lot, Need

    call_command("migrate", verbosity=0, interactive=False)
    t0 = time.monotonic()
    registry_import(user=None, scope=PLATFORM, tables=community_rows(
        generate_community(households=base, seed=seed, households_per_community=100)))
    demo_load(households=base, seed=seed)
    open_needs = Need.objects.filter(status="open").count()
    copies = max(0, math.ceil(requests / open_needs) - 1)
    print(f"  base: {base} households, {open_needs} open needs, imported in {time.monotonic() - t0:.0f} s; "
          f"{copies} copies to reach {requests:,}", flush=True)
    t0 = time.monotonic()
    qn = connection.ops.quote_name
    h_cols = [str(f.column) for f in Household._meta.concrete_fields if not f.primary_key]
    n_cols = [str(f.column) for f in Need._meta.concrete_fields if not f.primary_key]
    today = timezone.localdate()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {qn(Household._meta.db_table)}")
        last_household = cursor.fetchone()[0]
        cursor.execute(f"SELECT max(id) FROM {qn(Need._meta.db_table)}")
        last_need = cursor.fetchone()[0]
        lots = list(Lot.objects.filter(quantity__gt=0, expiry__gte=today).values_list("id", flat=True)) + list(
            Lot.objects.filter(quantity__gt=0, expiry__isnull=True).values_list("id", flat=True))
        for k in range(1, copies + 1):
            suffix = f"'-k{k}'"
            select = ", ".join(concat(qn(c), suffix) if c == "code" else qn(c) for c in h_cols)
            cursor.execute(f"INSERT INTO {qn(Household._meta.db_table)} ({', '.join(map(qn, h_cols))}) "
                           f"SELECT {select} FROM {qn(Household._meta.db_table)} WHERE id <= %s", [last_household])
            select = ", ".join("h1.id" if c == "household_id" else f"n.{qn(c)}" for c in n_cols)
            cursor.execute(
                f"INSERT INTO {qn(Need._meta.db_table)} ({', '.join(map(qn, n_cols))}) SELECT {select} "
                f"FROM {qn(Need._meta.db_table)} n JOIN {qn(Household._meta.db_table)} h0 ON h0.id = n.household_id "
                f"JOIN {qn(Household._meta.db_table)} h1 ON h1.code = {concat('h0.code', suffix)} "
                f"WHERE n.id <= %s AND n.status = 'open'", [last_need])
            if k == 1 and connection.vendor == "postgresql":
                # statistics of the tables as they now are: planned from the base's alone, the copies' join can
                # look a household up through the code's trigram index, slower with every copy (16 min, not 47 s)
                cursor.execute(f"ANALYZE {qn(Household._meta.db_table)}, {qn(Need._meta.db_table)}")
        # stock grows with the needs: each live lot gets a twin holding ``copies`` times its units (split in lots
        # of at most 1,000,000 units, the schema's ceiling)
        for lot_id in lots:
            lot = Lot.objects.get(pk=lot_id)
            total, parts = lot.quantity * copies, []
            while total > 0:
                parts.append(min(total, 1_000_000))
                total -= parts[-1]
            new = [Lot(item_id=lot.item_id, point_id=lot.point_id, quantity=q, initial_quantity=q, expiry=lot.expiry,
                       received_at=lot.received_at, source=f"{lot.source} (copy)") for q in parts]
            Lot.objects.bulk_create(new, batch_size=500)
            LedgerEntry.objects.bulk_create([
                LedgerEntry(at=x.received_at, kind=LedgerEntry.Kind.RECEIPT, item_id=x.item_id, point_id=x.point_id,
                            lot=x, quantity=x.quantity, balance_after=x.quantity, reason=x.source) for x in new],
                batch_size=500)
        # exactly ``requests`` open needs: the copies beyond are dropped (copies have no filings)
        extra = list(Need.objects.filter(status="open").order_by("-id").values_list("id", flat=True)[
            :max(0, Need.objects.filter(status="open").count() - requests)])
        if extra:
            Need.objects.filter(pk__gte=min(extra), pk__gt=last_need).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    n = Need.objects.filter(status="open").count()
    print(f"  copied to {Household.objects.count():,} households and {n:,} open needs "
          f"in {time.monotonic() - t0:.0f} s", flush=True)
    return n


# --- measuring -------------------------------------------------------------------------------------
_BACKEND: dict[str, Any] = {}  # the server process serving this connection: its connection, pid and last reading


def server_cpu() -> float:
    """CPU seconds the PostgreSQL server processes of this connection have used so far (0 on SQLite): with the
    machine shared, wall time says little; the server's CPU time beside this process's says where work went.
    When the connection is a new one (queueing a job closes and reopens it), the time of the processes before it
    is kept and the new process's added, so that a run never subtracts one process's time from another's."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    connection.ensure_connection()
    if _BACKEND.get("connection") is not connection.connection:
        pid = int(connection.connection.info.backend_pid)  # libpq knows it: no query
        _BACKEND.update(connection=connection.connection, pid=pid,
                        before=_BACKEND.get("before", 0.0) + _BACKEND.get("last", 0.0), last=0.0)
    try:
        fields = Path(f"/proc/{_BACKEND['pid']}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float(_BACKEND["before"] + _BACKEND["last"])
    _BACKEND["last"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float(_BACKEND["before"] + _BACKEND["last"])


class Meter:
    """Wall time spent inside named functions (patched in place), SQL statements and COPYs."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.ended: dict[str, float] = {}  # when each label's last call returned (perf_counter)
        self.queries = 0
        self.query_time = 0.0
        self.copies = 0
        self.slow: list[tuple[float, str]] = []  # statements over half a second: (seconds, their start)

    def wrap(self, owner: Any, name: str, label: str) -> Callable[[], None]:
        if not hasattr(owner, name):  # renamed: fail loudly rather than print a stage as 0.0 s
            raise AttributeError(f"bench_round times {owner.__name__}.{name}, which no longer exists")
        original = getattr(owner, name)
        meter = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                meter.ended[label] = time.perf_counter()
                meter.spent[label] = meter.spent.get(label, 0.0) + meter.ended[label] - start

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, original)

    def __call__(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start, server = time.perf_counter(), server_cpu()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries += 1
            spent = time.perf_counter() - start
            self.query_time += spent
            if spent > 0.5:
                self.slow.append((spent, f"[server CPU {server_cpu() - server:.1f} s] " + " ".join(sql.split())[:80]))


@contextmanager
def measured(patches: list[tuple[Any, str, str]]) -> Iterator[tuple[Meter, dict[str, float]]]:
    from django.db import connection

    meter = Meter()
    undo = [meter.wrap(owner, name, label) for owner, name, label in patches]
    out: dict[str, float] = {}
    _BACKEND.clear()  # the connection may have been reopened since
    server0 = server_cpu()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        with connection.execute_wrapper(meter):
            yield meter, out
    finally:
        out["wall"] = time.perf_counter() - wall0
        out["cpu"] = time.process_time() - cpu0
        out["server_cpu"] = server_cpu() - server0
        for u in undo:
            u()


def _copy_counter(meter_ref: list[Meter | None]) -> Callable[[], None]:
    """Count COPY statements of the fast path (they do not pass Django's execute wrappers)."""
    try:
        from civicgrid.core import bulk
    except ImportError:
        return lambda: None
    if not hasattr(bulk, "copy_rows"):
        return lambda: None
    original = bulk.copy_rows

    def counted(*args: Any, **kwargs: Any) -> Any:
        start, server = time.perf_counter(), server_cpu()
        try:
            return original(*args, **kwargs)
        finally:
            if meter_ref[0] is not None:
                meter_ref[0].copies += 1
                meter_ref[0].slow.append((time.perf_counter() - start, f"[server CPU {server_cpu() - server:.1f} s] "
                                          f"COPY {args[0]._meta.db_table} ({len(args[1])} columns, rows sent from "
                                          "Python)"))

    bulk.copy_rows = counted  # type: ignore[attr-defined]
    return lambda: setattr(bulk, "copy_rows", original)


def _lock_prober(path: str, stop: Any, out: Any) -> None:
    """Another process writing now and then, as a sweep visit would (BEGIN IMMEDIATE, a write, commit)."""
    import sqlite3

    db = sqlite3.connect(path, timeout=20, isolation_level=None)
    waits, failed = [], 0
    while not stop.is_set():
        start = time.perf_counter()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE IF NOT EXISTS bench_probe (n INTEGER)")
            db.execute("INSERT INTO bench_probe VALUES (1)")
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc):
                failed += 1
            with suppress(sqlite3.OperationalError):
                db.execute("ROLLBACK")
        waits.append(time.perf_counter() - start)
        time.sleep(0.2)
    out.put({"tries": len(waits), "failed": failed, "max_wait": max(waits, default=0.0)})


def run_engine(args: argparse.Namespace, *, sqlite: bool) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="civicgrid-bench-round-"))
    os.environ["CIVICGRID_VAR_DIR"] = str(scratch)
    os.environ["DJANGO_SETTINGS_MODULE"] = "civicgrid.config.settings"
    if sqlite:
        os.environ["CIVICGRID_DATABASE_URL"] = f"sqlite:///{scratch}/civicgrid.sqlite3"
    name = "SQLite" if sqlite else "PostgreSQL"
    requests = args.sqlite_requests if sqlite else args.requests
    print(f"{name}: setting up about {requests:,} open needs in {scratch}", flush=True)
    try:
        n = setup(requests=requests, base=args.base, seed=args.seed)
        return measure(args, n=n, sqlite=sqlite, path=scratch / "civicgrid.sqlite3")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _through_the_job(*, places: list[int], items: list[str], seed: int, fingerprint: str, needs_up_to: int | None
                     ) -> Any:
    """The round confirmed as the web page and the API confirm a large one: a district official's request
    (``services.round_confirm_or_queue``: it counts the selection's waiting needs and queues a confirmation; its
    time is what the official's page waits), then its job (``relief.jobs.run_round_confirmation``), run in this
    process; the progress it reported is printed."""
    from django.contrib.auth import get_user_model

    from civicgrid.accounts.models import Role
    from civicgrid.accounts.roles import scope_for
    from civicgrid.registry.models import Place
    from civicgrid.relief import jobs, services
    from civicgrid.relief.models import RoundConfirmation

    district = Place.objects.filter(level="district").order_by("path").first()
    official = get_user_model().objects.create(username=f"bench-official-{seed}")
    Role.objects.create(user=official, role="district_official", place=district)
    seen: list[int] = []
    real_progress = jobs.run_progress

    def progress(model: Any, run_id: int) -> Any:
        report = real_progress(model, run_id)

        def both(done: int, total: int) -> None:
            report(done, total)
            seen.append(RoundConfirmation.objects.get(pk=run_id).progress)

        return both

    asked = time.perf_counter()
    confirmation = services.round_confirm_or_queue(
        user=official, scope=scope_for(official), place_ids=places, item_codes=items, days=3, policy="equity",
        seed=seed, fingerprint=fingerprint, needs_up_to=needs_up_to)
    assert isinstance(confirmation, RoundConfirmation), confirmation
    print(f"  the request (counting {confirmation.n_requests:,} waiting needs, then queueing): "
          f"{time.perf_counter() - asked:.2f} s", flush=True)
    jobs.run_progress = progress  # type: ignore[assignment]
    try:
        print(f"  job: {jobs.run_round_confirmation(confirmation.pk)}", flush=True)
    finally:
        jobs.run_progress = real_progress  # type: ignore[assignment]
    confirmation.refresh_from_db()
    print(f"  the confirmation: {confirmation.status}, progress seen {seen} -> {confirmation.progress} %",
          flush=True)
    return confirmation.round


def measure(args: argparse.Namespace, *, n: int, sqlite: bool, path: Path) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    from civicgrid.core import auditchain
    from civicgrid.core.scoping import PLATFORM
    from civicgrid.registry.models import Place
    from civicgrid.relief import round_writes, roundconfirm, rounds, selectors, services
    from civicgrid.relief.models import DeliveryStop, DeliveryTask, Need, RoundAllocation

    places = list(Place.objects.filter(level="community").order_by("path").values_list("pk", flat=True))
    items = sorted(set(Need.objects.filter(status="open").values_list("item__code", flat=True)))
    seed = 20261129
    connection.close()
    common = [(selectors, "round_inputs", "read"), (rounds, "compare_policies", "engine")]
    meter_ref: list[Meter | None] = [None]
    uncount = _copy_counter(meter_ref)
    out: dict[str, Any] = {"requests": n}
    with measured(common) as (meter, t):
        preview = selectors.round_preview(scope=PLATFORM, place_ids=places, item_codes=items, days=3, seed=seed)
        fingerprint, needs_up_to = preview.inputs.fingerprint, preview.inputs.last_need_id
    requests = len(preview.inputs.requests)
    rest = t["wall"] - meter.spent.get("read", 0) - meter.spent.get("engine", 0)
    print(f"  preview of {requests:,} requests ({len(places)} communities, {len(items)} items): {t['wall']:.1f} s "
          f"wall, {t['cpu']:.1f} s CPU (+ {t['server_cpu']:.1f} s of PostgreSQL's); reading into frames {meter.spent.get('read', 0):.1f} s, engine "
          f"(5 policies + figures) {meter.spent.get('engine', 0):.1f} s, the rest {rest:.1f} s; "
          f"{meter.queries} SQL statements ({meter.query_time:.1f} s in the database)", flush=True)
    out["preview"] = {"wall": t["wall"], "cpu": t["cpu"], "server_cpu": t["server_cpu"], **meter.spent, "rest": rest, "queries": meter.queries}
    del preview

    held: list[float] = []  # the transaction's body, then its commit
    real_block = roundconfirm.serialised_block

    commit_cpu: list[float] = []

    @contextmanager
    def timed_block() -> Iterator[None]:
        start = time.perf_counter()
        with real_block():
            yield
            body, server = time.perf_counter(), server_cpu()
        held.extend([body - start, time.perf_counter() - body])
        commit_cpu.append(server_cpu() - server)

    roundconfirm.serialised_block = timed_block  # type: ignore[assignment]
    probe_stop = multiprocessing.Event()
    probe_out: Any = multiprocessing.Queue()
    probe = None
    if sqlite:
        probe = multiprocessing.Process(target=_lock_prober, args=(str(path), probe_stop, probe_out))
        probe.start()
        time.sleep(0.5)
    # the chosen policy runs before the transaction ("engine"); the plan and the other policies' figures in a
    # second thread while the needs are taken ("alongside", overlapping "needs": not part of the wall's sum)
    patches = [(selectors, "round_inputs", "read"), (roundconfirm, "_round_decision", "engine"),
               (roundconfirm, "_plan_and_figures", "alongside"), (round_writes, "take_needs", "needs"),
               (auditchain, "append", "audit"), (auditchain, "append_many", "audit")]
    try:
        with measured(patches) as (meter, t):
            meter_ref[0] = meter
            confirm = partial(services.round_confirm, user=None, scope=PLATFORM, place_ids=places,
                              item_codes=items, days=3, policy="equity", seed=seed, fingerprint=fingerprint,
                              needs_up_to=needs_up_to, now=timezone.now() + timedelta(seconds=1))
            if args.job:  # as a district official's queued confirmation, its job run here (no worker)
                confirm = partial(_through_the_job, places=places, items=items, seed=seed, fingerprint=fingerprint,
                                  needs_up_to=needs_up_to)
            if args.profile:  # where this process's time goes (cProfile: the confirm itself runs slower)
                import cProfile

                profiler = cProfile.Profile()
                round = profiler.runcall(confirm)
                profiler.dump_stats(f"{args.profile}.{'sqlite' if sqlite else 'postgres'}")
            else:
                round = confirm()
    except BaseException:
        if probe is not None:  # the probing process stops too, or the benchmark would wait for it forever
            probe_stop.set()
            probe.join(timeout=60)
        raise
    finally:
        roundconfirm.serialised_block = real_block  # type: ignore[assignment]
        meter_ref[0] = None
        uncount()
    spent = meter.spent
    # on PostgreSQL the rest is made in a second thread during the writes (part of neither sum)
    writes = t["wall"] - sum(spent.get(k, 0) for k in ("read", "engine", "audit", *(("alongside",) if sqlite else ())))
    # how long the writer waited for the second thread once the needs were taken
    waited = max(0.0, meter.ended.get("alongside", 0.0) - meter.ended.get("needs", 0.0))
    print(f"  confirm of {round.n_requests:,} requests: {t['wall']:.1f} s wall, {t['cpu']:.1f} s CPU (+ "
          f"{t['server_cpu']:.1f} s of PostgreSQL's); reading and "
          f"locking {spent.get('read', 0):.1f} s, engine (the chosen policy) {spent.get('engine', 0):.1f} s, "
          f"writes {writes:.1f} s, audit {spent.get('audit', 0):.1f} s; {meter.queries} SQL statements + "
          f"{meter.copies} COPY ({meter.query_time:.1f} s in the database)", flush=True)
    made = ("the plan of the rows (one-time codes encrypted, stock by lot, the snapshot packed) and the other "
            f"policies' figures {spent.get('alongside', 0):.1f} s")
    if sqlite:  # made before the transaction: SQLite's one write lock would hold every writer up meanwhile
        print(f"    before the transaction: {made}; the needs taken in {spent.get('needs', 0):.1f} s", flush=True)
    else:
        print(f"    during the writes, while the needs were taken ({spent.get('needs', 0):.1f} s): {made}, in a "
              f"second thread; the writer then waited {waited:.1f} s for them", flush=True)
    for seconds, sql in sorted(meter.slow, reverse=True)[:8]:
        print(f"    {seconds:5.1f} s  {sql}", flush=True)
    print(f"  written: {RoundAllocation.objects.filter(round=round).count():,} allocations, "
          f"{DeliveryTask.objects.filter(round=round).count():,} tasks, "
          f"{DeliveryStop.objects.filter(task__round=round).count():,} stops; "
          f"{round.units_allocated:,} units", flush=True)
    out["confirm"] = {"wall": t["wall"], "cpu": t["cpu"], "server_cpu": t["server_cpu"], **spent, "writes": writes,
                      "waited": waited, "queries": meter.queries, "copies": meter.copies, "serialised": sum(held)}
    if sqlite:
        print(f"  SQLite write lock held {sum(held):.1f} s (from BEGIN IMMEDIATE: writing {held[0]:.1f} s, "
              f"the commit {held[1]:.2f} s)", flush=True)
        probe_stop.set()
        assert probe is not None
        probe.join(timeout=60)
        result = probe_out.get(timeout=10)
        print(f"  another process writing every 0.2 s meanwhile: {result['tries']} writes, {result['failed']} "
              f"'database is locked', longest wait {result['max_wait']:.1f} s", flush=True)
        out["probe"] = result
    else:
        print(f"  transaction (row locks held) {sum(held):.1f} s (commit {held[1]:.2f} s, server CPU "
              f"{sum(commit_cpu):.2f} s)", flush=True)
    out["round_page"] = _round_page(round.pk)
    return out


def _round_page(round_id: int) -> dict[str, float]:
    """The confirmed round's page as a district official opens it (median of 3 warm requests), beside decoding
    the round's whole snapshot: what the page did before it read the snapshot's summary (relief 0014)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from civicgrid.accounts.models import Role
    from civicgrid.registry.models import Place
    from civicgrid.relief.models import AllocationRound

    district = Place.objects.filter(level="district").order_by("path").first()
    official, _made = get_user_model().objects.get_or_create(username="bench-page-official")
    Role.objects.get_or_create(user=official, role="district_official", place=district)
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(official)
    times = []
    for _ in range(4):  # the first warms up
        start = time.perf_counter()
        response = client.get(f"/relief/rounds/{round_id}/")
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    start = time.perf_counter()
    AllocationRound.objects.get(pk=round_id).snapshot  # noqa: B018 - decoded on access is what is timed
    decode = time.perf_counter() - start
    page = statistics.median(times[1:])
    print(f"  the round's page: {page * 1000:.0f} ms (median of 3 warm); reading and decoding the whole snapshot, "
          f"as the page did before: {decode * 1000:.0f} ms", flush=True)
    return {"page": page, "whole_snapshot": decode}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--sqlite-requests", type=int, default=None)
    parser.add_argument("--base", type=int, default=4_000, help="households generated and imported")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--profile", help="write the confirm's cProfile statistics to FILE.postgres / FILE.sqlite")
    parser.add_argument("--job", action="store_true",
                        help="confirm as the page confirms a large round: a queued confirmation and its job")
    parser.add_argument("--inner", choices=("postgres", "sqlite"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.profile:
        args.profile = str(Path(args.profile).resolve())
    if args.sqlite_requests is None:
        args.sqlite_requests = args.requests
    sys.path.insert(0, str(ROOT / "src"))
    if args.inner:
        out = run_engine(args, sqlite=args.inner == "sqlite")
        print("RESULT " + json.dumps(out), flush=True)
        return 0
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)",
          flush=True)
    failed = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    if not args.skip_postgres:
        failed |= subprocess.call([str(ROOT / "scripts" / "with-postgres.sh"), sys.executable, __file__,
                                   *sys.argv[1:], "--inner", "postgres"], env=env, timeout=3600)
    if not args.skip_sqlite:
        env.pop("CIVICGRID_DATABASE_URL", None)
        failed |= subprocess.call([sys.executable, __file__, *sys.argv[1:], "--inner", "sqlite"], env=env,
                                  timeout=3600)
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1, 5, 15 min)",
          flush=True)
    return 0 if not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
