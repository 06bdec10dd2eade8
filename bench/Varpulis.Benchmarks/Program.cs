using BenchmarkDotNet.Running;

// Hot-path micro-benchmarks of the VPL engine. Run all:
//   dotnet run -c Release --project bench/Varpulis.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Varpulis.Benchmarks.EngineBenchmarks).Assembly).Run(args);
