using System.Reflection;
using RegistryInfra.Benchmarks;

var benchmarks = Assembly.GetExecutingAssembly().GetTypes()
    .Where(t => typeof(IBenchmark).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false })
    .Select(t => (IBenchmark)Activator.CreateInstance(t)!)
    .OrderBy(b => b.Name, StringComparer.Ordinal)
    .ToList();

if (args.Length == 0 || args[0] is "-h" or "--help" or "list")
{
    Console.WriteLine("usage: dotnet run -c Release --project tests/benchmarks/RegistryInfra.Benchmarks -- NAME [args]");
    foreach (var b in benchmarks)
    {
        Console.WriteLine($"  {b.Name,-20} {b.Description}");
    }
    return args.Length == 0 ? 2 : 0;
}

var chosen = benchmarks.FirstOrDefault(b => b.Name == args[0]);
if (chosen is null)
{
    Console.Error.WriteLine($"unknown benchmark '{args[0]}'; run with 'list' to see them");
    return 2;
}
using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
return await chosen.RunAsync(args[1..], cts.Token);
