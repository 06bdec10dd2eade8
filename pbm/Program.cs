using Varpulis.Pbm;

// The `pbm` executable: commands are declared under Commands/ and composed by PbmApp.
return await PbmApp.RunAsync(args, Console.Out, Console.Error, Environment.GetEnvironmentVariable);
