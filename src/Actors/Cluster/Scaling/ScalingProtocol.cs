using Varpulis.Contracts.Cluster;

namespace Varpulis.Actors.Cluster.Scaling;

/// <summary>Asks the <see cref="ScalingAdvisor"/> for a recommendation on the cluster as it is now. Reply: <see cref="ScalingReport"/>.</summary>
public sealed record GetScalingRecommendation : IClusterManagerProtocol
{
    public static readonly GetScalingRecommendation Instance = new();
}

/// <summary>The <see cref="ScalingAdvisor"/>'s answer.</summary>
public sealed record ScalingReport(ScalingRecommendation Recommendation) : IClusterManagerProtocol;
