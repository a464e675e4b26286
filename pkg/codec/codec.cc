#include "pkg/codec/codec.h"
