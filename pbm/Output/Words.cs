using System.Globalization;

namespace Varpulis.Pbm.Output;

/// <summary>Numbers and counted nouns in pbm's summary lines.</summary>
public static class Words
{
    public static string Number(int n) => n.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>1 shard</c>, <c>3 shards</c>, <c>1 entity</c>, <c>2 entities</c>.</summary>
    public static string Plural(int n, string one, string? many = null) => $"{Number(n)} {(n == 1 ? one : many ?? one + "s")}";
}
