"""`ringside-perf tune-host`: shows (and with --apply sets) the host settings that matter for shard-per-core."""
import glob
import os
import resource

_WANT_NOFILE = 1048576   # open files: one per connection, peer connection and app connection
_WANT_GOVERNOR = 'performance'


def _read(path, default='-'):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def _write(path, value, changes):
    try:
        with open(path, 'w') as f:
            f.write(value)
        changes.append(f'set {path} = {value}')
    except OSError as e:
        changes.append(f'could not set {path} = {value}: {e.strerror}')


def _cpu_list(text):
    cpus = set()
    for part in filter(None, text.split(',')):
        lo, _, hi = part.partition('-')
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def _fmt_cpus(cpus):
    return ','.join(str(c) for c in sorted(cpus)) or '-'


def _raise_limit(pid, rlimit, name, want, changes):
    """Raises pid's soft and hard limit to `want`; where the hard limit may not be raised
    (no CAP_SYS_RESOURCE, or above fs.nr_open), raises the soft limit to the hard one."""
    show = lambda v: 'unlimited' if v == resource.RLIM_INFINITY else str(v)
    try:
        soft, hard = resource.prlimit(pid, rlimit)
    except OSError as e:
        changes.append(f'pid {pid}: could not read its {name} limit: {e.strerror}')
        return
    if soft == want and hard == want:
        return
    try:
        resource.prlimit(pid, rlimit, (want, want))
        changes.append(f'pid {pid}: {name} {show(want)} (was {show(soft)}, hard {show(hard)})')
        return
    except (OSError, ValueError) as e:
        why = getattr(e, 'strerror', None) or str(e)
    if soft == hard:
        changes.append(f'pid {pid}: {name} stays {show(soft)}: raising the hard limit failed ({why}; '
                       'it needs CAP_SYS_RESOURCE, or set it in the unit: see docs/deploy.md)')
        return
    try:
        resource.prlimit(pid, rlimit, (hard, hard))
        changes.append(f'pid {pid}: {name} soft {show(soft)} -> {show(hard)} (the hard limit; raising it failed: {why})')
    except (OSError, ValueError) as e:
        changes.append(f'pid {pid}: could not raise its {name} limit: {getattr(e, "strerror", None) or e}')


def _limit(rlimit):
    soft, hard = resource.getrlimit(rlimit)
    show = lambda v: 'unlimited' if v == resource.RLIM_INFINITY else str(v)
    return f'{show(soft)} (hard {show(hard)})'


def run(args):
    online = _cpu_list(_read('/sys/devices/system/cpu/online', '0'))
    isolated = _cpu_list(_read('/sys/devices/system/cpu/isolated', ''))
    cmdline = _read('/proc/cmdline', '')
    housekeeping = {min(online)} if len(online) > 1 else set(online)
    shard_cpus = (isolated or (online - housekeeping)) or online
    changes = []
    print(f'CPUs online            {_fmt_cpus(online)}')
    print(f'isolated (isolcpus)    {_fmt_cpus(isolated)}   kernel cmdline isolcpus: '
          f'{next((w for w in cmdline.split() if w.startswith("isolcpus=")), "(none)")}')
    governors = {c: _read(f'/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor') for c in sorted(online)}
    print('CPU governor           ' + ' '.join(f'cpu{c}={g}' for c, g in governors.items()))
    print(f'memlock limit (bytes)  {_limit(resource.RLIMIT_MEMLOCK)}   (io_uring rings on kernels < 5.12 count against it)')
    print(f'open files limit       {_limit(resource.RLIMIT_NOFILE)}')
    if args.pid:
        limits = _read(f'/proc/{args.pid}/limits', '')
        for line in limits.splitlines():
            if line.startswith(('Max locked memory', 'Max open files')):
                print(f'  pid {args.pid}: {line}')
    irqs = []
    for d in sorted(glob.glob('/proc/irq/[0-9]*'), key=lambda p: int(p.rsplit('/', 1)[1])):
        aff = _read(os.path.join(d, 'smp_affinity_list'))
        actions = ','.join(os.path.basename(a) for a in glob.glob(os.path.join(d, '*')) if os.path.isdir(a))
        irqs.append((d.rsplit('/', 1)[1], aff, actions))
    on_shard_cpus = [i for i in irqs if i[1] != '-' and _cpu_list(i[1]) & shard_cpus and i[2]]
    print(f'IRQs                   {len(irqs)} total, {len(on_shard_cpus)} with handlers may run on shard CPUs {_fmt_cpus(shard_cpus)}')
    for irq, aff, actions in on_shard_cpus[:args.top]:
        print(f'  irq {irq:<5} affinity {aff:<10} {actions}')
    print()
    print('to keep shards on cores of their own:')
    print(f'  ringsided --cpus {_fmt_cpus(shard_cpus)} --shards {len(shard_cpus)}')
    if not isolated and len(online) > 1:
        print(f'  kernel cmdline: isolcpus=nohz,domain,managed_irq,{_fmt_cpus(shard_cpus)} nohz_full={_fmt_cpus(shard_cpus)}'
              f' rcu_nocbs={_fmt_cpus(shard_cpus)} irqaffinity={_fmt_cpus(housekeeping)}')
    print(f'  systemd unit: LimitMEMLOCK=infinity LimitNOFILE={_WANT_NOFILE} CPUAffinity={_fmt_cpus(shard_cpus)}')
    if not args.apply:
        print('\n(nothing changed; --apply sets IRQ affinity, the governor and the limits of --pid)')
        return 0
    if 'irqs' in args.apply:
        for irq, aff, actions in on_shard_cpus:
            _write(f'/proc/irq/{irq}/smp_affinity_list', _fmt_cpus(housekeeping), changes)
    if 'governor' in args.apply:
        for c, g in governors.items():
            if g not in ('-', _WANT_GOVERNOR):
                _write(f'/sys/devices/system/cpu/cpu{c}/cpufreq/scaling_governor', _WANT_GOVERNOR, changes)
    if 'limits' in args.apply and not args.pid:
        changes.append('limits: no --pid given, so no process limits to raise')
    if 'limits' in args.apply and args.pid:
        _raise_limit(args.pid, resource.RLIMIT_MEMLOCK, 'memlock', resource.RLIM_INFINITY, changes)
        _raise_limit(args.pid, resource.RLIMIT_NOFILE, 'open files', _WANT_NOFILE, changes)
    print('\napplied:' if changes else '\napplied: nothing needed changing')
    for c in changes:
        print(f'  {c}')
    return 0
