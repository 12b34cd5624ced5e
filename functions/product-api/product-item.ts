/** How a product is laid out in the single products table (keys and sparse GSIs). */
import { PRODUCTS_TABLE_SCHEMA } from '../../lib/product-api/contract';

export const PRODUCT_SK = 'METADATA';
export const ACTIVE_PARTITION = 'PRODUCT#ACTIVE';
export const PRICE_INDEX = PRODUCTS_TABLE_SCHEMA.priceIndex.indexName;
export const NAME_INDEX = PRODUCTS_TABLE_SCHEMA.nameIndex.indexName;

export interface Product {
  productId: string;
  name: string;
  description?: string;
  price: number;
  currency: string;
  status: 'ACTIVE' | 'DELETED';
  createdAt: string;
  updatedAt: string;
}

export const productPk = (productId: string) => `PRODUCT#${productId}`;
export const toCents = (price: number) => Math.round(price * 100);
export const centsKey = (cents: number) => String(cents).padStart(12, '0');
export const priceSortKey = (price: number, productId: string) => `${centsKey(toCents(price))}#${productId}`;
export const normalizeName = (name: string) => name.trim().toLowerCase();
export const namePartition = (name: string) => `NAME#${normalizeName(name)}`;

/** Sortable and unique: a later acceptance wins, ties broken by event id. */
export const changeVersion = (acceptedAt: number, eventId: string) => `${String(acceptedAt).padStart(15, '0')}#${eventId}`;

/** Public view: table keys, GSI attributes and the change version stay inside. */
export function toPublicProduct(item: Record<string, any>): Product {
  const product: Product = {
    productId: item.productId,
    name: item.name,
    price: item.price,
    currency: item.currency,
    status: item.status,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
  if (item.description !== undefined) product.description = item.description;
  return product;
}

export const isActive = (item: Record<string, any> | undefined): item is Record<string, any> => item?.status === 'ACTIVE';
