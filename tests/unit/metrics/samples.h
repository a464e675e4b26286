// Reads one series out of Metrics::Collect() for assertions: a counter's or gauge's value, or
// a histogram's sample count.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "prometheus/labels.h"
#include "prometheus/metric_family.h"

namespace sy::metrics {

// The family called `name`, or nullptr.
inline const prometheus::MetricFamily* FindFamily(
    const std::vector<prometheus::MetricFamily>& families, const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// The series of family `name` whose labels are exactly `labels`, or nullptr.
inline const prometheus::ClientMetric* FindSeries(
    const std::vector<prometheus::MetricFamily>& families, const std::string& name,
    const prometheus::Labels& labels) {
  const prometheus::MetricFamily* f = FindFamily(families, name);
  if (f == nullptr) return nullptr;
  for (const auto& m : f->metric) {
    prometheus::Labels have;
    for (const auto& l : m.label) have[l.name] = l.value;
    if (have == labels) return &m;
  }
  return nullptr;
}

// The pointers point into the vector: not into a temporary (a use-after-free ASan found).
const prometheus::MetricFamily* FindFamily(std::vector<prometheus::MetricFamily>&&,
                                           const std::string&) = delete;
const prometheus::ClientMetric* FindSeries(std::vector<prometheus::MetricFamily>&&,
                                           const std::string&, const prometheus::Labels&) = delete;

// The value of that series (a histogram's sample count); nullopt when it does not exist.
inline std::optional<double> Value(const std::vector<prometheus::MetricFamily>& families,
                                   const std::string& name, const prometheus::Labels& labels) {
  const prometheus::MetricFamily* f = FindFamily(families, name);
  const prometheus::ClientMetric* m = FindSeries(families, name, labels);
  if (f == nullptr || m == nullptr) return std::nullopt;
  switch (f->type) {
    case prometheus::MetricType::Counter:
      return m->counter.value;
    case prometheus::MetricType::Gauge:
      return m->gauge.value;
    case prometheus::MetricType::Histogram:
      return static_cast<double>(m->histogram.sample_count);
    default:
      return std::nullopt;
  }
}

}  // namespace sy::metrics
