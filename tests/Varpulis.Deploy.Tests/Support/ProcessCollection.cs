namespace Varpulis.Deploy.Tests.Support;

/// <summary>
/// The tests that run a whole cluster of processes: one at a time (each starts six or more processes; together on a
/// two-core machine they would only slow each other down past their timeouts).
/// </summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection
{
    public const string Name = "cluster processes";
}
