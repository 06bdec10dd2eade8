namespace Varpulis.Vpl.Json;

/// <summary>
/// Allocation-free UTF-8 rendering of timestamps, byte for byte the text of
/// <see cref="Runtime.TimeFormat.FormatTimestamp"/>: <c>yyyy-MM-ddTHH:mm:ss</c>, then 3, 6 or 9 fraction digits
/// when the nanoseconds need them, then <c>Z</c>.
/// </summary>
internal static class Rfc3339
{
    /// <summary>The longest text: <c>2262-04-11T23:47:16.854775807Z</c>.</summary>
    public const int MaxLength = 30;

    public static int Format(long nanos, Span<byte> dest)
    {
        long secs = Math.DivRem(nanos, Runtime.TimeFormat.NanosPerSecond, out long frac);
        if (frac < 0)
        {
            secs -= 1;
            frac += Runtime.TimeFormat.NanosPerSecond;
        }
        // Every long of nanoseconds is within DateTime's range (years 1677..2262).
        var dt = new DateTime(DateTime.UnixEpoch.Ticks + (secs * TimeSpan.TicksPerSecond), DateTimeKind.Utc);
        Digits(dest, 0, dt.Year, 4);
        dest[4] = (byte)'-';
        Digits(dest, 5, dt.Month, 2);
        dest[7] = (byte)'-';
        Digits(dest, 8, dt.Day, 2);
        dest[10] = (byte)'T';
        Digits(dest, 11, dt.Hour, 2);
        dest[13] = (byte)':';
        Digits(dest, 14, dt.Minute, 2);
        dest[16] = (byte)':';
        Digits(dest, 17, dt.Second, 2);
        int n = 19;
        if (frac != 0)
        {
            dest[n++] = (byte)'.';
            if (frac % Runtime.TimeFormat.NanosPerMilli == 0)
            {
                Digits(dest, n, frac / Runtime.TimeFormat.NanosPerMilli, 3);
                n += 3;
            }
            else if (frac % Runtime.TimeFormat.NanosPerMicro == 0)
            {
                Digits(dest, n, frac / Runtime.TimeFormat.NanosPerMicro, 6);
                n += 6;
            }
            else
            {
                Digits(dest, n, frac, 9);
                n += 9;
            }
        }
        dest[n++] = (byte)'Z';
        return n;
    }

    private static void Digits(Span<byte> dest, int at, long value, int width)
    {
        for (int i = at + width - 1; i >= at; i--)
        {
            dest[i] = (byte)('0' + (value % 10));
            value /= 10;
        }
    }
}
