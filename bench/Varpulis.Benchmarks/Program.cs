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
BenchmarkSwitcher.FromAssembly(typeof(EngineBenchmarks).Assembly).Run(args);
