#pragma once
#include "dataplane/b/b.h"
