//! Scaling out (cargo feature `ballista`): the same KPI SQL on an Apache DataFusion Ballista
//! cluster. `cluster` runs the scheduler, the executors and the client session; `codec` is what
//! they encode plans with; `functions` and `tables` are mttx's parts of those plans.

pub mod cluster;
pub mod codec;
pub mod functions;
pub mod tables;
