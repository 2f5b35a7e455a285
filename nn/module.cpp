// nn: populated by the layers work.
namespace stan::nn {}
