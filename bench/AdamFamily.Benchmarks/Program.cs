using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/AdamFamily.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(AdamFamily.Benchmarks.StepBenchmarks).Assembly).Run(args);
