namespace Varpulis.Api.Security;

/// <summary>A tenant's limits (rest-api.md, "Quota tiers").</summary>
public sealed record QuotaTier(string Name, int MaxPipelines, int MaxEventsPerSecond, int MaxStreamsPerPipeline)
{
    public static readonly QuotaTier Free = new("free", 2, 100, 5);
    public static readonly QuotaTier Default = new("default", 10, 10_000, 50);
    public static readonly QuotaTier Pro = new("pro", 20, 50_000, 100);
    public static readonly QuotaTier Enterprise = new("enterprise", 1_000, 500_000, 500);

    public static readonly IReadOnlyList<QuotaTier> All = [Free, Default, Pro, Enterprise];

    public static QuotaTier? Find(string name) => All.FirstOrDefault(t => t.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
}
