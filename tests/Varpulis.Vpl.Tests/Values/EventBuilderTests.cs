using Varpulis.Vpl.Runtime;
using Xunit;
using static Varpulis.Vpl.Tests.Values.ValueAssert;

namespace Varpulis.Vpl.Tests.Values;

public class EventBuilderTests
{
    private static readonly Value N = Value.Null;

    private static TypeRegistry Registry()
    {
        var reg = new TypeRegistry();
        reg.Declare("Order", null,
        [
            ("id", VplType.String),
            ("price", VplType.Float),
            ("qty", VplType.Int),
            ("at", VplType.Timestamp.AsNullable()),
            ("tags", VplType.ArrayOf(VplType.Float).AsNullable()),
            ("attrs", VplType.MapOf(VplType.String, VplType.Int).AsNullable()),
            ("ttl", VplType.Duration.AsNullable()),
            ("ok", VplType.Bool.AsNullable()),
        ]);
        return reg;
    }

    private static string? SetError(EventBuilder b, string field, Value v)
    {
        b.TrySet(field, v, out var error);
        return error;
    }

    private static Event Build(EventBuilder b, long ts = 0)
    {
        Assert.True(b.TryBuild(ts, out var e, out var error), error);
        return e!;
    }

    private static void BeginOrder(EventBuilder b)
    {
        Assert.True(b.TryBegin("Order", out var error), error);
    }

    [Fact]
    public void UndeclaredTypeIsCreatedOpenAndTakesAnything()
    {
        var reg = new TypeRegistry();
        var b = new EventBuilder(reg);
        Assert.True(b.TryBegin("Tick", out _));
        Assert.Null(SetError(b, "price", 1L));
        Assert.Null(SetError(b, "symbol", Arr(1L, "x")));
        var e = Build(b, 42);
        Assert.True(reg.TryGet("Tick", out var t));
        Assert.False(t.IsDeclared);
        Assert.Same(t, e.Type);
        Assert.Equal(42, e.Timestamp);
        Assert.Equal(["price", "symbol"], t.FieldNames);
        Same(1L, e.Get("price"));
        Same(Arr(1L, "x"), e.Get("symbol"));

        // The same type next time: known fields keep their slots, a new one is added after them.
        Assert.True(b.TryBegin("Tick", out _));
        Assert.Null(SetError(b, "volume", 5.5));
        var e2 = Build(b);
        Assert.Equal(3, e2.Fields.Length);
        Same(5.5, e2.Get("volume"));
        Same(N, e2.Get("price"));
    }

    [Fact]
    public void FieldsArrayEndsAtTheHighestSetSlot()
    {
        var reg = new TypeRegistry();
        reg.DefineOpen("T", ["a", "b", "c", "d"]);
        var b = new EventBuilder(reg);
        b.TryBegin("T", out _);
        b.TrySet("b", 2L, out _);
        var e = Build(b);
        Assert.Equal(2, e.Fields.Length);
        Same(N, e.Fields[0]);
        Same(2L, e.Fields[1]);

        b.TryBegin("T", out _);
        Assert.Empty(Build(b).Fields);

        // An explicit null is a missing field: it does not lengthen the array.
        b.TryBegin("T", out _);
        b.TrySet("a", 1L, out _);
        b.TrySet("d", N, out _);
        Assert.Single(Build(b).Fields);
    }

    [Fact]
    public void DeclaredTypeRejectsUnknownFieldsWithASuggestion()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Equal("unknown field 'pricee' for event type 'Order' (did you mean 'price'?)", SetError(b, "pricee", 1.0));
        Assert.Equal("unknown field 'zzzzzzz' for event type 'Order'", SetError(b, "zzzzzzz", 1.0));
    }

    [Fact]
    public void DeclaredTypeCoercesNumbers()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Null(SetError(b, "id", "o1"));
        Assert.Null(SetError(b, "price", 100L));
        Assert.Null(SetError(b, "qty", 3.0));
        var e = Build(b);
        Same(100.0, e.Get("price"));
        Same(3L, e.Get("qty"));
    }

    [Fact]
    public void NonIntegralFloatIntoIntIsAnError()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Equal("field 'qty' of 'Order' expects int, got float 2.5", SetError(b, "qty", 2.5));
        Assert.Equal("field 'qty' of 'Order' expects int, got float 1E+20", SetError(b, "qty", 1e20));
    }

    [Fact]
    public void WrongKindsNameFieldExpectedAndActual()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Equal("field 'price' of 'Order' expects float, got str \"12\"", SetError(b, "price", "12"));
        Assert.Equal("field 'id' of 'Order' expects str, got int 7", SetError(b, "id", 7L));
        Assert.Equal("field 'ok' of 'Order' expects bool?, got int 1", SetError(b, "ok", 1L));
        Assert.Equal("field 'tags' of 'Order' expects [float]?, got map", SetError(b, "tags", Map()));
        Assert.Equal("field 'at' of 'Order' expects timestamp?, got bool true", SetError(b, "at", true));
    }

    [Fact]
    public void TimestampFieldsParseRfc3339AndEpochMillis()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        b.TrySet("id", "x", out _);
        b.TrySet("price", 1.0, out _);
        b.TrySet("qty", 1L, out _);
        Assert.Null(SetError(b, "at", "2026-01-23T10:00:00Z"));
        Same(Ts(1_769_162_400L * TimeFormat.NanosPerSecond), Build(b).Get("at"));

        BeginOrder(b);
        Assert.Null(SetError(b, "at", 1_700_000_000_000L));
        b.TrySet("id", "x", out _);
        b.TrySet("price", 1.0, out _);
        b.TrySet("qty", 1L, out _);
        Same(Ts(1_700_000_000_000L * TimeFormat.NanosPerMilli), Build(b).Get("at"));

        BeginOrder(b);
        Assert.Equal("field 'at' of 'Order' expects timestamp?, got str \"yesterday\"", SetError(b, "at", "yesterday"));
    }

    [Fact]
    public void DurationFieldsTakeNanosOrDurationText()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Null(SetError(b, "ttl", "500ms"));
        b.TrySet("id", "x", out _);
        b.TrySet("price", 1.0, out _);
        b.TrySet("qty", 1L, out _);
        Same(Dur(500 * TimeFormat.NanosPerMilli), Build(b).Get("ttl"));
        BeginOrder(b);
        Assert.Null(SetError(b, "ttl", 42L));
        BeginOrder(b);
        Assert.Equal("field 'ttl' of 'Order' expects duration?, got str \"soon\"", SetError(b, "ttl", "soon"));
    }

    [Fact]
    public void NullForANonOptionalFieldIsMissing()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Equal("missing field 'price' for event type 'Order'", SetError(b, "price", N));
        Assert.Null(SetError(b, "at", N));
    }

    [Fact]
    public void MissingNonOptionalFieldFailsTheBuild()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        b.TrySet("id", "o1", out _);
        b.TrySet("qty", 1L, out _);
        Assert.False(b.TryBuild(0, out var e, out var error));
        Assert.Null(e);
        Assert.Equal("missing field 'price' for event type 'Order'", error);
    }

    [Fact]
    public void OptionalFieldsMayBeMissing()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        b.TrySet("qty", 1L, out _);
        b.TrySet("price", 2L, out _);
        b.TrySet("id", "o1", out _);
        var e = Build(b);
        Assert.Equal(3, e.Fields.Length);
        Assert.Equal("Order { id: \"o1\", price: 2.0, qty: 1 } @1970-01-01T00:00:00Z", e.ToString());
    }

    [Fact]
    public void ArrayElementsAreCheckedAndCoerced()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        var original = Arr(1L, 2.5);
        Assert.Null(SetError(b, "tags", original));
        b.TrySet("id", "x", out _);
        b.TrySet("price", 1.0, out _);
        b.TrySet("qty", 1L, out _);
        Same(Arr(1.0, 2.5), Build(b).Get("tags"));
        Same(Arr(1L, 2.5), original);

        BeginOrder(b);
        Assert.Equal("field 'tags[1]' of 'Order' expects float, got str \"x\"", SetError(b, "tags", Arr(1.0, "x")));
        Assert.Equal("field 'tags[0]' of 'Order' expects float, got null", SetError(b, "tags", Arr(N)));
    }

    [Fact]
    public void MapValuesAreCheckedAndCoerced()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Null(SetError(b, "attrs", Map(("a", 1L), ("b", 2.0))));
        b.TrySet("id", "x", out _);
        b.TrySet("price", 1.0, out _);
        b.TrySet("qty", 1L, out _);
        Same(Map(("a", 1L), ("b", 2L)), Build(b).Get("attrs"));

        BeginOrder(b);
        Assert.Equal("field 'attrs[\"b\"]' of 'Order' expects int, got float 0.5", SetError(b, "attrs", Map(("a", 1L), ("b", 0.5))));
    }

    [Fact]
    public void DuplicateFieldIsAnError()
    {
        var b = new EventBuilder(new TypeRegistry());
        b.TryBegin("T", out _);
        Assert.Null(SetError(b, "a", 1L));
        Assert.Equal("duplicate field 'a' for event type 'T'", SetError(b, "a", 2L));
    }

    [Fact]
    public void BuilderIsReusableAfterAnError()
    {
        var b = new EventBuilder(Registry());
        BeginOrder(b);
        b.TrySet("id", "x", out _);
        Assert.NotNull(SetError(b, "qty", 2.5));
        BeginOrder(b);
        Assert.Null(SetError(b, "id", "y"));
        Assert.Null(SetError(b, "qty", 2L));
        Assert.Null(SetError(b, "price", 1.0));
        var e = Build(b);
        Same("y", e.Get("id"));
        Assert.False(b.TryBuild(0, out _, out var error));
        Assert.Equal("no event started", error);
    }

    [Fact]
    public void Utf8Overloads()
    {
        var reg = new TypeRegistry();
        var b = new EventBuilder(reg);
        Assert.True(b.TryBegin("Tëst"u8, out _));
        Assert.True(b.TrySet("prïce"u8, 1L, out _));
        var e = Build(b);
        Assert.Equal("Tëst", e.Type.Name);
        Same(1L, e.Get("prïce"));
        Assert.False(b.TryBegin(new byte[] { 0x41, 0xFF }, out var error));
        Assert.Equal("event type name is not valid UTF-8", error);
    }

    [Fact]
    public void NamesAndSchemasAreBounded()
    {
        var reg = new TypeRegistry();
        var b = new EventBuilder(reg) { MaxFieldsPerOpenType = 3, MaxTypes = 2 };
        Assert.False(b.TryBegin("", out var error));
        Assert.Equal("event type name must not be empty", error);
        Assert.False(b.TryBegin(new string('x', 257), out error));
        Assert.Equal("event type name longer than 256 characters", error);
        Assert.True(b.TryBegin("A", out _));
        Assert.Null(SetError(b, "f1", 1L));
        Assert.Null(SetError(b, "f2", 1L));
        Assert.Null(SetError(b, "f3", 1L));
        Assert.Equal("too many fields for event type 'A' (limit 3); cannot add 'f4'", SetError(b, "f4", 1L));
        Assert.True(b.TryBegin("B", out _));
        Assert.False(b.TryBegin("C", out error));
        Assert.Equal("too many event types (limit 2); cannot add 'C'", error);
        Assert.True(b.TryBegin("A", out _));
        Assert.Equal("field name longer than 256 characters", SetError(b, new string('f', 300), 1L));
    }

    [Fact]
    public void DescribeRendersValuesForMessages()
    {
        Assert.Equal("null", EventBuilder.Describe(N));
        Assert.Equal("float 2.5", EventBuilder.Describe(2.5));
        Assert.Equal("str \"" + new string('a', 40) + "...\"", EventBuilder.Describe(new string('a', 50)));
        Assert.Equal("duration 5s", EventBuilder.Describe(Sec(5)));
        Assert.Equal("array", EventBuilder.Describe(Arr()));
    }

    /// <summary>
    /// The direct reading of <c>YYYY-MM-DDTHH:MM:SS[.f]Z</c> against the general parser it short-cuts (the parser, then
    /// the 64-bit range check, as before): the same answer and value for canonical, near-canonical and invalid texts.
    /// </summary>
    [Fact]
    public void CanonicalTimestampsReadAsTheGeneralParserReadsThem()
    {
        static (bool, long) General(string s)
        {
            if (!TimeFormat.TryParseTimestamp(s, out long n)) return (false, 0);
            if (DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var dto))
            {
                long ticks = (dto.UtcDateTime - DateTime.UnixEpoch).Ticks;
                if (ticks <= long.MinValue / 100 || ticks >= long.MaxValue / 100) return (false, 0);
            }
            return (true, n);
        }

        var texts = new List<string>
        {
            "2024-02-29T12:00:00Z", "2023-02-29T12:00:00Z", "2024-04-31T00:00:00Z", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z",
            "2024-01-00T00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z", "2024-01-01T23:59:59Z",
            "1700-01-01T00:00:00Z", "2200-12-31T23:59:59.9999999Z", "1699-12-31T23:59:59Z", "2201-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.5Z", "2024-01-01T00:00:00.Z", "2024-01-01T00:00:00.12345678Z",
            "2024-01-01T00:00:00.123456789Z", "2024-01-01t00:00:00Z", "2024-01-01T00:00:00z", "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00+00:00", "2024-01-01T01:00:00+01:00", "2024-1-01T00:00:00Z", "+024-01-01T00:00:00Z",
            "2024-01-01T00:00:00", "2024-01-01T00:00:0aZ", "2024-01-01T00:00:00.1a3Z", "2024-01-01T00:00:00,5Z", "2024-01-01",
            "２０２４-01-01T00:00:00Z",
        };
        var rng = new Random(14);
        for (int i = 0; i < 20_000; i++)
        {
            int year = rng.Next(1650, 2300), month = rng.Next(0, 14), day = rng.Next(0, 33), hour = rng.Next(0, 25), minute = rng.Next(0, 61), second = rng.Next(0, 61);
            int digits = rng.Next(0, 10);
            string fraction = digits == 0 ? "" : "." + string.Concat(Enumerable.Range(0, digits).Select(_ => (char)('0' + rng.Next(10))));
            texts.Add($"{year:D4}-{month:D2}-{day:D2}T{hour:D2}:{minute:D2}:{second:D2}{fraction}Z");
        }
        foreach (var text in texts)
        {
            bool ok = EventBuilder.TryParseTimestamp(text, out long nanos);
            Assert.True(General(text) == (ok, ok ? nanos : 0), $"{text}: general {General(text)}, got ({ok}, {nanos})");
        }
    }

    [Fact]
    public void TimestampsOutsideTheNanosecondRangeAreRejected()
    {
        Assert.True(EventBuilder.TryParseTimestamp("2262-04-11T23:47:16Z", out long max));
        Assert.Equal(9_223_372_036_000_000_000, max);
        Assert.True(EventBuilder.TryParseTimestamp("1677-09-21T00:12:44Z", out long min));
        Assert.Equal(-9_223_372_036_000_000_000, min);
        Assert.True(EventBuilder.TryParseTimestamp("2026-01-23", out long day));
        Assert.Equal(1_769_126_400L * TimeFormat.NanosPerSecond, day);
        Assert.False(EventBuilder.TryParseTimestamp("2262-04-11T23:47:17Z", out _));
        Assert.False(EventBuilder.TryParseTimestamp("9999-12-31T00:00:00Z", out _));
        Assert.False(EventBuilder.TryParseTimestamp("0001-01-01", out _));
        Assert.False(EventBuilder.TryParseTimestamp("not a date", out _));

        var b = new EventBuilder(Registry());
        BeginOrder(b);
        Assert.Equal("field 'at' of 'Order' expects timestamp?, got str \"9999-12-31T00:00:00Z\"", SetError(b, "at", "9999-12-31T00:00:00Z"));
    }

    [Fact]
    public void DurationLiteralParsing()
    {
        Assert.True(EventBuilder.TryParseDuration("5m", out long n));
        Assert.Equal(5 * TimeFormat.NanosPerMinute, n);
        Assert.True(EventBuilder.TryParseDuration("-2s", out n));
        Assert.Equal(-2 * TimeFormat.NanosPerSecond, n);
        Assert.True(EventBuilder.TryParseDuration("7ns", out n));
        Assert.Equal(7, n);
        Assert.False(EventBuilder.TryParseDuration("5", out _));
        Assert.False(EventBuilder.TryParseDuration("5x", out _));
        Assert.False(EventBuilder.TryParseDuration("99999999999999d", out _));
    }
}
