"""Request models, one module per page; every limit comes from `app.config.settings`."""

from layerlab.app.schemas.attention import (  # noqa: F401
    HEAD_COUNTS,
    AdditiveRequest,
    AttentionRequest,
    EmbeddingValue,
    Index8,
    WeightCell,
    WeightName,
)
from layerlab.app.schemas.conv import (  # noqa: F401
    ConvParams,
    ConvTraceRequest,
    ImageListing,
    KernelInfo,
    SampleInfo,
    UploadedImage,
)
from layerlab.app.schemas.family import (  # noqa: F401
    LUMA_LIKE,
    SEED002_SIGNAL,
    Conv1dRequest,
    FamilyChannels,
    FamilySize,
    FlattenedRequest,
    GroupedMode,
    GroupedRequest,
    KernelSide,
    PaddingMode,
    ResidualRequest,
    ShuffleRequest,
    Taps,
    TiledRequest,
    TileSide,
    TransposedMatrix,
    TransposedRequest,
    TransposedSide,
)
from layerlab.app.schemas.norm import (  # noqa: F401
    NORM_OFFSETS,
    NORM_SCALES,
    NormInput,
    NormKind,
    NormNumber,
    NormParams,
    NormScale,
    NormStreamRequest,
)
from layerlab.app.schemas.pool import (  # noqa: F401
    SEED004_MATRIX,
    MatrixRow,
    PoolCompareRequest,
    PoolKind,
    PoolOut,
    PoolParams,
    PoolShiftRequest,
    PoolSide,
    PoolSource,
    PoolTraceRequest,
    Shift,
    as_pair,
)
