using System.Globalization;
using Varpulis.Actors.Configuration;
using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster.Scaling;

/// <summary>
/// The scaling rules of rest-api.md, with avg = placed pipelines / healthy workers: healthy &lt; min → <c>scale_up</c>
/// to min; avg &gt; up-threshold and healthy &lt; max → <c>scale_up</c> to min(ceil(total / up-threshold), max); avg &lt;
/// down-threshold and healthy &gt; min → <c>scale_down</c> to max(ceil(total / up-threshold), min); else <c>stable</c>.
/// With no healthy worker, avg is the number of pipelines (as if one worker ran them all). Without
/// <c>--scaling-min-workers</c> the minimum is 0. A scale-down whose target is not below the current count is
/// <c>stable</c> (one worker running one pipeline is not told to scale down to one worker).
/// </summary>
public static class ScalingRules
{
    public static ScalingRecommendation Recommend(int healthy, int totalPipelines, ScalingSettings s, DateTimeOffset now)
    {
        int min = s.MinWorkers ?? 0;
        int max = s.MaxWorkers;
        double avg = healthy == 0 ? totalPipelines : (double)totalPipelines / healthy;
        avg = Math.Round(avg, 3);
        int byLoad = (int)Math.Ceiling(totalPipelines / s.UpThreshold);
        string F(double d) => d.ToString("0.###", CultureInfo.InvariantCulture);
        // "1 healthy worker", "2 healthy workers"; an average reads "1 pipeline per worker" only when it prints as 1.
        string Workers(int n) => n == 1 ? "1 healthy worker" : $"{n} healthy workers";
        string PerWorker(double d) => F(d) == "1" ? "1 pipeline per worker" : $"{F(d)} pipelines per worker";
        if (healthy < min)
            return new("scale_up", healthy, min, $"{Workers(healthy)}, below the minimum of {min}", avg, totalPipelines, now);
        if (avg > s.UpThreshold && healthy < max)
        {
            int target = Math.Min(byLoad, max);
            return new("scale_up", healthy, target, $"{PerWorker(avg)}, above the up-threshold of {F(s.UpThreshold)}", avg, totalPipelines, now);
        }
        if (avg < s.DownThreshold && healthy > min)
        {
            int target = Math.Max(byLoad, min);
            if (target < healthy)
                return new("scale_down", healthy, target, $"{PerWorker(avg)}, below the down-threshold of {F(s.DownThreshold)}", avg, totalPipelines, now);
        }
        return new("stable", healthy, healthy, $"{PerWorker(avg)} on {Workers(healthy)}, within the thresholds", avg, totalPipelines, now);
    }
}
