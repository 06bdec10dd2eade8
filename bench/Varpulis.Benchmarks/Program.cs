using BenchmarkDotNet.Running;
using Varpulis.Benchmarks;

// Hot-path micro-benchmarks of the VPL engine. Run all:
//   dotnet run -c Release --project bench/Varpulis.Benchmarks -- --filter '*'
// Or run one benchmark method N times without BenchmarkDotNet, to count its instructions under valgrind (repeatable on
// a loaded machine, unlike wall-clock time):
//   valgrind --tool=callgrind dotnet bench/.../Varpulis.Benchmarks.dll once FilterEmitSampled 20
if (args.Length >= 2 && args[0] == "once")
{
    var bench = new EngineBenchmarks();
    bench.Setup();
    var method = typeof(EngineBenchmarks).GetMethod(args[1]) ?? throw new ArgumentException($"no benchmark method '{args[1]}'");
    int times = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 1;
    object? result = null;
    for (int i = 0; i < times; i++) result = method.Invoke(bench, null);
    Console.WriteLine($"{args[1]} x{times}: {result}");
    return;
}
// Or compare two benchmark methods in interleaved rounds (A B, B A, ...) in one process, which keeps their ratio
// meaningful when other work loads the machine: prints the median and range of time(B) / time(A) over the rounds.
//   dotnet bench/.../Varpulis.Benchmarks.dll ab FilterEmit FilterEmitSampled 41
if (args.Length >= 3 && args[0] == "ab")
{
    var bench = new EngineBenchmarks();
    bench.Setup();
    var a = typeof(EngineBenchmarks).GetMethod(args[1]) ?? throw new ArgumentException($"no benchmark method '{args[1]}'");
    var b = typeof(EngineBenchmarks).GetMethod(args[2]) ?? throw new ArgumentException($"no benchmark method '{args[2]}'");
    int rounds = args.Length > 3 ? int.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 41;
    double Time(System.Reflection.MethodInfo m)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        m.Invoke(bench, null);
        return System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }
    for (int i = 0; i < 5; i++)
    {
        Time(a);
        Time(b);
    }
    var ta = new List<double>();
    var tb = new List<double>();
    var ratios = new List<double>();
    for (int r = 0; r < rounds; r++)
    {
        double x, y;
        if (r % 2 == 0)
        {
            x = Time(a);
            y = Time(b);
        }
        else
        {
            y = Time(b);
            x = Time(a);
        }
        ta.Add(x);
        tb.Add(y);
        ratios.Add(y / x);
    }
    static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
    Console.WriteLine($"{args[1]}: median {Median(ta):F2} ms (range {ta.Min():F2}-{ta.Max():F2})");
    Console.WriteLine($"{args[2]}: median {Median(tb):F2} ms (range {tb.Min():F2}-{tb.Max():F2})");
    Console.WriteLine($"{args[2]} / {args[1]}: median {Median(ratios):F3} (range {ratios.Min():F3}-{ratios.Max():F3}) over {rounds} interleaved rounds");
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(EngineBenchmarks).Assembly).Run(args);
