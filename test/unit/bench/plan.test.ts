import t from 'tap';
import { PLANS, planFromArgs } from '../../../bench/plan.ts';

t.test('quick is the default; full is deeper and soaks', async (t) => {
  t.same(planFromArgs([]), PLANS.quick);
  t.same(planFromArgs(['--quick']), PLANS.quick);
  const full = planFromArgs(['--full']);
  t.equal(full.mode, 'full');
  t.ok(full.soakSeconds > 0 && PLANS.quick.soakSeconds === 0);
  t.ok(full.connections.hot.length > PLANS.quick.connections.hot.length);
});

t.test('profile runs one hot-path phase per server and nothing else', async (t) => {
  const plan = planFromArgs(['--profile']);
  t.ok(plan.profile);
  t.same(plan.connections, { hot: [8], invalid: [], unselected: [] });
  t.equal(plan.rounds, 1);
  t.equal(plan.memoryItems, 0);
  t.equal(plan.soakSeconds, 0);
});

t.test('narrowing flags', async (t) => {
  const plan = planFromArgs(['--targets', 'baseline,app', '--classes', 'hot,unselected', '--connections', '2,4', '--no-memory', '--soak-seconds', '30']);
  t.same(plan.targets, ['baseline', 'app']);
  t.same(plan.connections, { hot: [2, 4], invalid: [], unselected: [2, 4] });
  t.equal(plan.memoryItems, 0);
  t.equal(plan.soakSeconds, 30);
  t.same(planFromArgs(['--classes', 'invalid']).connections, { hot: [], invalid: PLANS.quick.connections.invalid, unselected: [] });
});

t.test('bad values are refused, naming the flag', async (t) => {
  t.throws(() => planFromArgs(['--targets', 'baseline,nginx']), /--targets: unknown nginx; choose from baseline, app, app\+kube-writer/);
  t.throws(() => planFromArgs(['--classes', 'warm']), /--classes: unknown warm/);
  t.throws(() => planFromArgs(['--connections', '0']), /--connections: "0" is not a whole number from 1 to 256/);
  t.throws(() => planFromArgs(['--connections', '8,x']), /--connections: "x"/);
  t.throws(() => planFromArgs(['--soak-seconds', '-5']), /--soak-seconds/);
  t.throws(() => planFromArgs(['--quick', '--full']), /exclude each other/);
  t.throws(() => planFromArgs(['--fast']), /Unknown option '--fast'/);
});

t.test('--compare-with adds another checkout\'s serve as other-app, after the chosen targets', async (t) => {
  const plan = planFromArgs(['--targets', 'baseline,app', '--compare-with', '../previous']);
  t.same(plan.targets, ['baseline', 'app', 'other-app']);
  t.equal(plan.compareWith, '../previous');
  t.equal(planFromArgs([]).compareWith, undefined);
  t.throws(() => planFromArgs(['--compare-with', ' ']), /--compare-with/);
  t.throws(() => planFromArgs(['--targets', 'other-app']), /--targets: unknown other-app/, 'only --compare-with brings it in');
});
